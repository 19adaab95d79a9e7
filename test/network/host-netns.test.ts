// A host network for real, inside network namespaces this test makes (root): `network create --host --nat`, a
// Debian cloud instance on it, the host end reaches it (ping, TCP to port 22 with no forward), the guest reaches a
// second namespace through the masquerade (and not without it), a crashed member's tap is swept by the next
// `network ls`, and after `network rm` no bridge, tap or nft table is left.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

t.setTimeout(1_200_000);

const tag = `${process.pid % 100_000}`;
const near = `qlh-a-${tag}`;
const far = `qlh-b-${tag}`;
const SUBNET = '10.123.45.0/24';
const GUEST = '10.123.45.2';
const FAR = '198.51.100.2';

/** Why this cannot run here, if it cannot: root, iproute2's netns, nft and the Debian test image are needed. */
async function cannotRun(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to make network namespaces, bridges and taps';
  if (!process.env['QLAUNCH_DEBIAN_X86_64'] && !process.env['QLAUNCH_TEST_HOME'])
    return 'no Debian test image (QLAUNCH_DEBIAN_X86_64)';
  for (const tool of [
    ['nft', '--version'],
    ['ping', '-V'],
  ]) {
    const r = await execa(tool[0] ?? '', tool.slice(1), { reject: false }).catch(() => undefined);
    if (r?.exitCode !== 0)
      return `${tool[0]} is not installed (apt-get install ${tool[0] === 'nft' ? 'nftables' : 'iputils-ping'})`;
  }
  const made = await execa('ip', ['netns', 'add', `qlh-probe-${tag}`], { reject: false });
  if (made.exitCode !== 0) return `cannot make a network namespace: ${made.stderr.trim()}`;
  await execa('ip', ['netns', 'del', `qlh-probe-${tag}`], { reject: false });
  return undefined;
}

const skip = (await cannotRun()) ?? false;

const inNs = (ns: string, argv: string[], env: Record<string, string> = {}) =>
  execa('ip', ['netns', 'exec', ns, ...argv], { reject: false, env: { ...process.env, ...env } });

/** The interface names in namespace `ns`. */
async function links(ns: string): Promise<string[]> {
  const { stdout } = await inNs(ns, ['ip', '-j', 'link', 'show']);
  return (JSON.parse(stdout) as { ifname: string }[]).map((l) => l.ifname);
}

/** The nft tables in namespace `ns`, as "family name". */
async function tables(ns: string): Promise<string[]> {
  const { stdout } = await inNs(ns, ['nft', '-j', 'list', 'tables']);
  return (JSON.parse(stdout).nftables as { table?: { family: string; name: string } }[]).flatMap((e) =>
    e.table ? [`${e.table.family} ${e.table.name}`] : [],
  );
}

// Connects to HOST:PORT and prints the first line the peer sends (an SSH banner, the far server's word).
const CONNECT = `const s=require('net').connect(+process.argv[2],process.argv[1]);s.setTimeout(15000,()=>process.exit(3));s.once('data',d=>{console.log(String(d).split('\\n')[0]);process.exit(0)});s.on('error',e=>{console.error(e.message);process.exit(2)})`;
const REACH =
  'import socket,sys\ns=socket.create_connection((sys.argv[1],int(sys.argv[2])),float(sys.argv[3]))\nprint(s.recv(64).decode().strip())';

t.test(
  'a --host --nat network in a namespace: reached, reaching out, swept and removed',
  { skip },
  async (t) => {
    // The image store of the shared test home, instances and networks of our own.
    const home = join(shortTempDir(t), 'home');
    mkdirSync(home, { recursive: true });
    symlinkSync(join(await testHome(), 'images'), join(home, 'images'));
    const env = { QLAUNCH_HOME: home };
    const qlaunch = (...args: string[]) => inNs(near, [process.execPath, cliPath, ...args], env);

    // Two namespaces joined by a veth pair: the far one has no route back to the network's subnet.
    t.teardown(async () => {
      await qlaunch('rm', '--force', 'hv');
      await qlaunch('network', 'rm', 'lan');
      await execa('ip', ['netns', 'del', near], { reject: false });
      await execa('ip', ['netns', 'del', far], { reject: false });
    });
    for (const argv of [
      ['ip', 'netns', 'add', near],
      ['ip', 'netns', 'add', far],
      ['ip', '-n', near, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', far, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', near, 'link', 'add', 'qlv-a', 'type', 'veth', 'peer', 'name', 'qlv-b', 'netns', far],
      ['ip', '-n', near, 'address', 'add', '198.51.100.1/24', 'dev', 'qlv-a'],
      ['ip', '-n', near, 'link', 'set', 'qlv-a', 'up'],
      ['ip', '-n', far, 'address', 'add', `${FAR}/24`, 'dev', 'qlv-b'],
      ['ip', '-n', far, 'link', 'set', 'qlv-b', 'up'],
    ]) {
      await execa(argv[0] ?? '', argv.slice(1));
    }
    // The far side answers each connection with the address it came from.
    const server: ChildProcess = spawn('ip', [
      'netns',
      'exec',
      far,
      process.execPath,
      '-e',
      `require('net').createServer(s=>s.end('from '+s.remoteAddress+'\\n')).listen(8022,'${FAR}')`,
    ]);
    t.teardown(() => server.kill());

    const created = await qlaunch('network', 'create', 'lan', '--host', '--nat', '--subnet', SUBNET);
    t.equal(created.exitCode, 0, created.stderr);
    t.match(created.stdout, 'created network lan: 10.123.45.0/24 on bridge qlb-lan, with NAT');
    t.ok((await links(near)).includes('qlb-lan'), 'the bridge is there');
    const addr = await inNs(near, ['ip', '-j', 'address', 'show', 'qlb-lan']);
    t.match(addr.stdout, '"local":"10.123.45.1","prefixlen":24', "the host holds the subnet's first address");
    t.same(await tables(near), ['ip qlaunch-lan'], 'one table of its own');

    const vm = await qlaunch(
      'create',
      'hv',
      '--image',
      'debian-12-local',
      '--network',
      'private:lan',
      '--accel',
      'tcg',
    );
    t.equal(vm.exitCode, 0, `create: ${vm.stderr}`);
    const started = await qlaunch('start', 'hv', '--wait', 'agent', '--timeout', '600');
    t.equal(started.exitCode, 0, `start: ${started.stderr}`);
    const taps = (await links(near)).filter((name) => name.startsWith('qlt-'));
    t.equal(taps.length, 1, 'one tap for the member');

    // The guest's address comes up once cloud-init has applied the seed's network-config.
    const ready = await qlaunch('exec', 'hv', '--timeout', '300', '--', 'cloud-init', 'status', '--wait');
    t.equal(ready.exitCode, 0, `cloud-init is done: ${ready.stderr}`);
    const ping = await inNs(near, ['ping', '-c', '3', '-W', '5', GUEST]);
    t.equal(ping.exitCode, 0, `the host pings the guest: ${ping.stdout}${ping.stderr}`);
    const ssh = await inNs(near, [process.execPath, '-e', CONNECT, GUEST, '22']);
    t.match(ssh.stdout, /^SSH-2\.0/, `the host reaches the guest's port 22 with no forward: ${ssh.stderr}`);

    // Out through the bridge (not the user NIC): the far side sees the host's address, the masquerade's work.
    const route = await qlaunch(
      'exec',
      'hv',
      '--',
      'ip',
      'route',
      'add',
      '198.51.100.0/24',
      'via',
      '10.123.45.1',
    );
    t.equal(route.exitCode, 0, route.stderr);
    // A TCP connect from the guest to the far side's port 8022, given `seconds` to answer.
    const reachFar = (seconds: string) =>
      qlaunch('exec', 'hv', '--timeout', '60', '--', 'python3', '-c', REACH, FAR, '8022', seconds);
    const out = await reachFar('10');
    t.equal(
      out.stdout.trim(),
      'from 198.51.100.1',
      `the guest reaches the far side through NAT: ${out.stderr}`,
    );
    // Without the masquerade the far side cannot answer: the way out above was the NAT table's.
    await inNs(near, ['nft', 'delete', 'table', 'ip', 'qlaunch-lan']);
    const blocked = await reachFar('5');
    t.not(blocked.exitCode, 0, 'without the NAT table the far side is not reached');

    // A stop removes the member's tap; the next start makes it again.
    const stopped = await qlaunch('stop', 'hv', '--force');
    t.equal(stopped.exitCode, 0, `stop: ${stopped.stderr}`);
    t.notOk((await links(near)).includes(taps[0] ?? ''), 'stop removed the tap');
    const record = () => JSON.parse(readFileSync(join(home, 'networks', 'lan.json'), 'utf8'));
    t.same(record().host.taps, {}, 'and its record');
    const again = await qlaunch('start', 'hv', '--wait', 'none');
    t.equal(again.exitCode, 0, `start again: ${again.stderr}`);
    t.ok((await links(near)).includes(taps[0] ?? ''), 'start made it again');
    t.ok((await tables(near)).includes('ip qlaunch-lan'), 'and the NAT table the host had lost');

    // A crash: QEMU killed, nobody to remove its tap; the next `network ls` sweeps it, the bridge stays.
    const runtime = JSON.parse(readFileSync(join(home, 'instances', 'hv', 'runtime.json'), 'utf8'));
    const pid = Number(runtime.pid);
    t.ok(pid > 0, 'the instance has a QEMU pid');
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    t.ok((await links(near)).includes(taps[0] ?? ''), 'the tap outlives its QEMU');
    const ls = await qlaunch('network', 'ls');
    t.equal(ls.exitCode, 0, ls.stderr);
    t.notOk((await links(near)).includes(taps[0] ?? ''), 'network ls removed the dead member’s tap');
    t.ok((await links(near)).includes('qlb-lan'), 'the bridge stays while the network does');

    // Removed: no bridge, tap or table of the network is left.
    t.equal((await qlaunch('rm', '--force', 'hv')).exitCode, 0);
    const rm = await qlaunch('network', 'rm', 'lan');
    t.equal(rm.exitCode, 0, rm.stderr);
    t.same(
      (await links(near)).filter((name) => name.startsWith('qlb-') || name.startsWith('qlt-')),
      [],
      'no bridge or tap left',
    );
    t.same(await tables(near), [], 'no nft table left');
  },
);
