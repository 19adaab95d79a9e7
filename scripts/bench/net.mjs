#!/usr/bin/env node
// Benchmark: guest network throughput with iperf3, in one run, interleaved rounds of: guest → host over user
// networking (QEMU's slirp), guest → guest over a private network (an L2 segment over loopback multicast), and
// guest → host over a host network (a Linux bridge and taps). Medians in Mbit/s and the ratios to user networking.
// Run as root: npm run build && node scripts/bench/net.mjs [rounds=3] [seconds=10]
// (QLAUNCH_HOME, or the test setup's QLAUNCH_TEST_HOME, must hold debian-12-local; iperf3 on the host: apt-get
// install iperf3; the guests' iperf3 is the test image's, scripts/guests/debian-cloud installs it). The bench runs in
// a network namespace of its own, so the host's network is never touched.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../../dist/lib/index.js';
import { median } from './compare.mjs';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const cli = fileURLToPath(new URL('../../dist/bin/qlaunch.js', import.meta.url));

if (process.getuid?.() !== 0) throw new Error('run as root: a host network needs a bridge and taps');

// Run again inside a network namespace of the bench's own, once the host's end of the measurement is there.
if (!process.env.QLAUNCH_BENCH_NETNS) {
  try {
    execFileSync('iperf3', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('the host has no iperf3 (the far end of every measurement): apt-get install iperf3');
  }
  execFileSync('unshare', ['--net', '--', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, QLAUNCH_BENCH_NETNS: '1' },
  });
  process.exit(0);
}

execFileSync('ip', ['link', 'set', 'lo', 'up']);
const base = process.env.QLAUNCH_HOME ?? process.env.QLAUNCH_TEST_HOME;
if (!base) throw new Error('set QLAUNCH_HOME to a home whose store holds debian-12-local');
// A home of the bench's own (its networks), the image store borrowed.
const home = mkdtempSync(join(tmpdir(), 'qlaunch-bench-net-'));
mkdirSync(join(home, 'home'));
symlinkSync(join(base, 'images'), join(home, 'home', 'images'));
process.env.QLAUNCH_HOME = join(home, 'home');
const qlaunch = (...args) => execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
qlaunch('network', 'create', 'benchhost', '--host', '--subnet', '10.77.0.0/24');
qlaunch('network', 'create', 'benchpriv', '--subnet', '10.78.0.0/24');

const server = spawn('iperf3', ['-s', '-p', '5201'], { stdio: 'ignore' });
const guests = [];
try {
  const boot = (hostname, networks) =>
    launch(
      { image: 'debian-12-local', cpus: 2, memory: '1G', accel: 'tcg', hostname, networks },
      { readyTimeout: 900_000, onProgress: (line) => console.error(`${hostname}: ${line}`) },
    );
  const [a, b] = await Promise.all([
    boot('bencha', ['private:benchpriv', 'private:benchhost']),
    boot('benchb', ['private:benchpriv']),
  ]);
  guests.push(a, b);
  if ((await a.exec(['sh', '-c', 'command -v iperf3'])).exitCode !== 0) {
    throw new Error('debian-12-local has no iperf3: use the test image (scripts/guests/debian-cloud x86_64)');
  }
  const started = await b.exec(['iperf3', '-s', '-D', '-p', '5201']);
  if (started.exitCode !== 0) throw new Error(`iperf3 -s in benchb: ${started.stderr.toString()}`);

  const addressOf = (net, name) =>
    JSON.parse(qlaunch('network', 'inspect', net, '--json')).members[name].address;
  const targets = {
    'user (slirp) → host': '10.0.2.2',
    'private → guest': addressOf('benchpriv', 'benchb'),
    'host network → host': '10.77.0.1',
  };
  const results = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const [name, address] of Object.entries(targets)) {
      const run = await a.exec(['iperf3', '-c', address, '-p', '5201', '-t', String(seconds), '-J'], {
        timeout: (seconds + 60) * 1000,
      });
      if (run.exitCode !== 0) throw new Error(`${name}: ${run.stdout.toString()} ${run.stderr.toString()}`);
      const mbits = JSON.parse(run.stdout.toString()).end.sum_received.bits_per_second / 1e6;
      console.error(`round ${round}: ${name} ${mbits.toFixed(1)} Mbit/s`);
      results[name].push(mbits);
    }
  }
  const user = median(results['user (slirp) → host']);
  console.log(
    `${rounds} interleaved rounds of ${seconds} s, guest → peer, TCP, medians (iperf3 -J received)`,
  );
  console.log('network               Mbit/s   × user');
  for (const [name, values] of Object.entries(results)) {
    const m = median(values);
    console.log(`${name.padEnd(20)} ${m.toFixed(1).padStart(7)}   ${(m / user).toFixed(2).padStart(6)}`);
  }
} finally {
  await Promise.all(guests.map((g) => g.stop({ force: true })));
  server.kill();
  for (const net of ['benchpriv', 'benchhost']) {
    try {
      qlaunch('network', 'rm', net);
    } catch (error) {
      console.error(`network rm ${net}: ${error.message}`);
    }
  }
  rmSync(home, { recursive: true, force: true });
}
