// `qlaunch network create | ls | inspect | rm` against a temporary qlaunch home: no guest is booted.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { hostRoutes } from '../../lib/network/host-routes.js';
import { joinNetwork, leaveNetwork } from '../../lib/network/store.js';
import { formatSubnet } from '../../lib/network/subnet.js';
import { cliPath, shortTempDir } from '../fixtures/guests.js';

// About 40 CLI runs: on a busy 2-core host the file takes over a minute and a half.
t.setTimeout(240_000);

const cli = (home: string, args: string[]) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });

t.test('create, ls, inspect, rm: human and JSON', async (t) => {
  const home = join(t.testdir(), 'home');
  const empty = await cli(home, ['network', 'ls']);
  t.equal(empty.exitCode, 0, empty.stderr);
  t.match(empty.stdout, /^no networks; `qlaunch network create NAME` makes one/);
  t.same(JSON.parse((await cli(home, ['network', 'ls', '--json'])).stdout), []);

  const lab = await cli(home, ['network', 'create', 'lab']);
  t.equal(lab.exitCode, 0, lab.stderr);
  const subnet = /^created network lab: (10\.\d+\.\d+\.0\/24)$/.exec(lab.stdout.trim())?.[1];
  t.ok(subnet, lab.stdout);
  const dir = join(home, 'networks');
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(statSync(join(dir, 'lab.json')).mode & 0o777, 0o600);
  t.match(JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')), { name: 'lab', subnet, members: {} });

  const web = await cli(home, ['network', 'create', 'web', '--subnet', '192.168.77.0/29', '--json']);
  t.equal(web.exitCode, 0, web.stderr);
  t.match(JSON.parse(web.stdout), { schema: 1, name: 'web', subnet: '192.168.77.0/29', members: {} });

  const ls = await cli(home, ['network', 'ls']);
  t.equal(ls.exitCode, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+SUBNET\s+MEMBERS$/);
  t.match(lines[1], new RegExp(`^lab\\s+${subnet?.replaceAll('.', '\\.')}\\s+-$`));
  t.match(lines[2], /^web\s+192\.168\.77\.0\/29\s+-$/);
  t.same(
    JSON.parse((await cli(home, ['network', 'ls', '--json'])).stdout).map((n: { name: string }) => n.name),
    ['lab', 'web'],
  );

  // Two members, joined as `create --network private:lab` would.
  await joinNetwork('lab', 'pa', '02:00:00:00:00:0a', { dir });
  await joinNetwork('lab', 'pb', '02:00:00:00:00:0b', { dir });
  const base = subnet?.replace(/0\/24$/, '') ?? '';
  const inspect = await cli(home, ['network', 'inspect', 'lab']);
  t.equal(inspect.exitCode, 0, inspect.stderr);
  t.match(inspect.stdout, new RegExp(`^subnet:\\s+${subnet?.replaceAll('.', '\\.')}$`, 'm'));
  t.match(inspect.stdout, /^members:\s+2$/m);
  t.match(
    inspect.stdout,
    new RegExp(`^ {2}pa\\s+${base.replaceAll('.', '\\.')}2\\s+02:00:00:00:00:0a$`, 'm'),
  );
  t.match(
    inspect.stdout,
    new RegExp(`^ {2}pb\\s+${base.replaceAll('.', '\\.')}3\\s+02:00:00:00:00:0b$`, 'm'),
  );
  t.match(inspect.stdout, new RegExp(`^file:\\s+${join(dir, 'lab.json')}$`, 'm'));
  const json = JSON.parse((await cli(home, ['network', 'inspect', 'lab', '--json'])).stdout);
  t.same(json.members, {
    pa: { address: `${base}2`, mac: '02:00:00:00:00:0a' },
    pb: { address: `${base}3`, mac: '02:00:00:00:00:0b' },
  });
  t.match((await cli(home, ['network', 'ls'])).stdout, /^lab\s+\S+\s+pa,pb$/m);
  t.match(
    inspect.stderr,
    new RegExp(
      `warning: network lab holds ${base.replaceAll('.', '\\.')}2 for pa, which is no instance; \`qlaunch rm pa\` frees it`,
    ),
    'members with no instance behind them are pointed out',
  );

  const refused = await cli(home, ['network', 'rm', 'lab']);
  t.equal(refused.exitCode, 1);
  t.match(
    refused.stderr,
    /qlaunch: network lab has members: pa, pb; not removing it\n {2}fix: .*`qlaunch rm pa pb`/,
  );
  t.ok(statSync(join(dir, 'lab.json')).isFile(), 'the record is kept');

  await leaveNetwork('lab', 'pa', { dir });
  await leaveNetwork('lab', 'pb', { dir });
  const rm = await cli(home, ['network', 'rm', 'lab']);
  t.equal(rm.exitCode, 0, rm.stderr);
  t.equal(rm.stdout, `removed network lab (${subnet})`);
  const gone = await cli(home, ['network', 'inspect', 'lab']);
  t.equal(gone.exitCode, 1);
  t.match(gone.stderr, /qlaunch: no network named lab\n {2}fix: .*`qlaunch network ls` lists networks/);
});

t.test('bad input: refused with what is wrong and the fix, nothing written', async (t) => {
  const home = join(t.testdir(), 'home');
  t.equal((await cli(home, ['network', 'create', 'lab', '--subnet', '10.60.0.0/24'])).exitCode, 0);
  const cases: [string[], RegExp][] = [
    [['lab'], /network lab already exists \(10\.60\.0\.0\/24\)\n {2}fix: .*qlaunch network rm lab/],
    [
      ['other', '--subnet', '10.60.0.128/25'],
      /overlaps network lab \(10\.60\.0\.0\/24\)\n {2}fix: .*network ls/,
    ],
    [['other', '--subnet', '10.61.0.0/30'], /is too small: a network needs at least a \/29/],
    [['other', '--subnet', '8.8.8.0/24'], /is not in private address space\n {2}fix: .*192\.168\.0\.0\/16/],
    [['other', '--subnet', '10.0.0.0/16'], /overlaps 10\.0\.2\.0\/24, every guest's user-mode network/],
    [
      ['other', '--subnet', '10.62.0.7/24'],
      /has host bits set\n {2}fix: give the network address: 10\.62\.0\.0\/24/,
    ],
    [['other', '--subnet', 'big'], /is not an IPv4 CIDR/],
    [['Other'], /network name "Other" is not allowed\n {2}fix: use 1 to 63 lower-case letters/],
    [['other', '--nat'], /--nat is for host networks: network other is not one\n {2}fix: add --host/],
    // As root the subnet is checked before anything is made on the host; a user is refused --host first.
    process.getuid?.() === 0
      ? [['other', '--host', '--subnet', '10.60.0.128/25'], /overlaps network lab \(10\.60\.0\.0\/24\)/]
      : [['other', '--host'], /host network other needs root/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(home, ['network', 'create', ...args]);
    // --nat without --host is a usage error (exit 2); the rest are refusals of the network asked for.
    t.equal(result.exitCode, args.includes('--nat') ? 2 : 1, args.join(' '));
    t.match(result.stderr, message, args.join(' '));
  }
  t.same(
    JSON.parse((await cli(home, ['network', 'ls', '--json'])).stdout).map((n: { name: string }) => n.name),
    ['lab'],
    'only lab was made',
  );
  const missing = await cli(home, ['network', 'rm', 'lba']);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /no network named lba\n {2}fix: did you mean 'lab'\?/);
});

t.test('--host without root: refused, naming the fix, nothing made', async (t) => {
  const home = join(t.testdir(), 'home');
  // As root, the same command run as nobody (setpriv drops the ids); as a user, as that user.
  const asUser =
    process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
  const [file = process.execPath, ...rest] = [...asUser, process.execPath];
  const result = await execa(file, [...rest, cliPath, 'network', 'create', 'lan', '--host', '--nat'], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });
  t.equal(result.exitCode, 1, result.stderr);
  t.match(result.stderr, /host network lan needs root .*\n {2}fix: run qlaunch as root \(sudo\)/);
  t.match(result.stderr, /--network bridge:BR/);
  t.notOk(existsSync(join(home, 'networks', 'lan.json')), 'no record');
});

t.test('bridge:BR that is not a bridge here: refused at create, naming the fix, nothing made', async (t) => {
  // Short: an instance's sockets must fit in 108 bytes.
  const home = join(shortTempDir(t), 'home');
  const result = await cli(home, ['create', 'lanvm', '--image', 'debian-12', '--network', 'bridge:qlnobr0']);
  t.equal(result.exitCode, 1, result.stderr);
  // Without the helper installed the first refusal is that one; with it, the missing bridge.
  t.match(
    result.stderr,
    /there is no bridge qlnobr0 on this host\n {2}fix: name an existing bridge .*ip -br link show type bridge|qemu-bridge-helper is not installed/,
  );
  t.notOk(existsSync(join(home, 'instances', 'lanvm')), 'no instance made');
  const bad = await cli(home, ['create', 'lanvm', '--image', 'debian-12', '--network', 'bridge:br0,x=y']);
  t.equal(bad.exitCode, 1, bad.stderr);
  t.match(bad.stderr, /bridge 'br0,x=y' is not an interface name/);
});

t.test('a damaged record: listed with its problem, named on inspect', async (t) => {
  const home = join(t.testdir(), 'home');
  t.equal((await cli(home, ['network', 'create', 'lab'])).exitCode, 0);
  writeFileSync(join(home, 'networks', 'broken.json'), '{"schema": 1');
  const ls = await cli(home, ['network', 'ls']);
  t.equal(ls.exitCode, 0, ls.stderr);
  t.match(ls.stdout, /^broken\s+-\s+damaged: network record .*broken\.json is damaged/m);
  t.match(ls.stderr, /warning: network 'broken' is damaged/);
  const inspect = await cli(home, ['network', 'inspect', 'broken']);
  t.equal(inspect.exitCode, 1);
  t.match(inspect.stderr, /network record .*broken\.json is damaged.*\n {2}fix: restore the file/);
});

const [route] = await hostRoutes();
const noRoute = route === undefined && 'this host has no route besides the default one';

t.test('a network a host route now overlaps is warned about', { skip: noRoute }, async (t) => {
  if (route === undefined) return;
  const home = join(t.testdir(), 'home');
  t.equal((await cli(home, ['network', 'create', 'lab'])).exitCode, 0);
  // As if the route came after the network (a VPN connected since): the record holds the route's subnet.
  const path = join(home, 'networks', 'lab.json');
  const record = JSON.parse(readFileSync(path, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...record, subnet: formatSubnet(route) }));
  for (const args of [
    ['network', 'ls'],
    ['network', 'inspect', 'lab'],
  ]) {
    const result = await cli(home, args);
    t.equal(result.exitCode, 0, result.stderr);
    t.match(
      result.stderr,
      new RegExp(
        `warning: network lab \\(${formatSubnet(route).replaceAll('.', '\\.')}\\) overlaps the host's route`,
      ),
      args.join(' '),
    );
  }
});

t.test('a throwaway member: shown with its launcher, no warning; gone once its launcher is', async (t) => {
  const home = join(t.testdir(), 'home');
  const dir = join(home, 'networks');
  await joinNetwork('lab', 't1', '02:00:00:00:00:0c', { dir, routes: [] }, { owner: { pid: process.pid } });
  const live = await cli(home, ['network', 'inspect', 'lab']);
  t.equal(live.exitCode, 0, live.stderr);
  t.match(
    live.stdout,
    new RegExp(`^ {2}t1 \\(run, pid ${process.pid}\\)\\s+\\d+\\.\\d+\\.`, 'm'),
    live.stdout,
  );
  t.equal(live.stderr, '', 'a running guest is no stray member');
  const refused = await cli(home, ['network', 'rm', 'lab']);
  t.match(refused.stderr, /network lab has members: t1/);
  // A launcher that has exited: a member owned by it is swept on the next look.
  const child = spawn(process.execPath, ['-e', '']);
  const dead = await new Promise<number>((done) => child.on('exit', () => done(child.pid ?? 0)));
  await joinNetwork('lab', 't2', '02:00:00:00:00:0d', { dir }, { owner: { pid: dead } });
  t.match((await cli(home, ['network', 'inspect', 'lab', '--json'])).stdout, /"t1"/);
  t.notMatch((await cli(home, ['network', 'inspect', 'lab', '--json'])).stdout, /"t2"/);
  await leaveNetwork('lab', 't1', { dir });
  t.equal((await cli(home, ['network', 'rm', 'lab'])).exitCode, 0, 'empty once the live one left');
});
