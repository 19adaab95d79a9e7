// A throwaway guest on a host network, in a network namespace this test makes (root): `run IMAGE --network
// private:lan -- COMMAND` reaches the host end over its tap, and once the run is over its tap is gone.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

t.setTimeout(900_000);

const ns = `qlh-r-${process.pid % 100_000}`;

async function cannotRun(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to make a network namespace, a bridge and taps';
  if (!process.env['QLAUNCH_DEBIAN_X86_64'] && !process.env['QLAUNCH_TEST_HOME'])
    return 'no Debian test image (QLAUNCH_DEBIAN_X86_64)';
  const made = await execa('ip', ['netns', 'add', ns], { reject: false });
  if (made.exitCode !== 0) return `cannot make a network namespace: ${made.stderr.trim()}`;
  return undefined;
}

const skip = (await cannotRun()) ?? false;

const REACH =
  'import socket,sys\ns=socket.create_connection((sys.argv[1],int(sys.argv[2])),float(sys.argv[3]))\nprint(s.recv(64).decode().strip())';

t.test('run on a host network: the guest reaches the host end; its tap goes with it', { skip }, async (t) => {
  const home = join(shortTempDir(t), 'home');
  mkdirSync(home, { recursive: true });
  symlinkSync(join(await testHome(), 'images'), join(home, 'images'));
  const qlaunch = (...args: string[]) =>
    execa('ip', ['netns', 'exec', ns, process.execPath, cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
  const linkNames = async () =>
    (JSON.parse((await execa('ip', ['-n', ns, '-j', 'link', 'show'])).stdout) as { ifname: string }[]).map(
      (l) => l.ifname,
    );
  t.teardown(async () => {
    await qlaunch('network', 'rm', 'lan');
    await execa('ip', ['netns', 'del', ns], { reject: false });
  });
  await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const created = await qlaunch('network', 'create', 'lan', '--host', '--subnet', '10.124.0.0/24');
  t.equal(created.exitCode, 0, created.stderr);
  // The host end answers each connection with the address it came from.
  const server: ChildProcess = spawn('ip', [
    'netns',
    'exec',
    ns,
    process.execPath,
    '-e',
    `require('net').createServer(s=>s.end('host saw '+s.remoteAddress+'\\n')).listen(8023,'10.124.0.1')`,
  ]);
  t.teardown(() => server.kill());

  const run = await qlaunch(
    'run',
    'debian-12-local',
    '--accel',
    'tcg',
    '--timeout',
    '600',
    '--network',
    'private:lan',
    '--hostname',
    't1',
    '--',
    'python3',
    '-c',
    REACH,
    '10.124.0.1',
    '8023',
    '30',
  );
  t.equal(run.exitCode, 0, run.stderr);
  t.equal(run.stdout.trim(), 'host saw 10.124.0.2', 'the guest reached the host end from its address');
  t.same(
    (await linkNames()).filter((name) => name.startsWith('qlt-')),
    [],
    'its tap is gone with it',
  );
  const record = JSON.parse(readFileSync(join(home, 'networks', 'lan.json'), 'utf8'));
  t.same(record.host.taps, {}, 'and from the record');
  t.same(record.members, {}, 'its address given back');
});
