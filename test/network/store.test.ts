import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  createNetwork,
  getNetwork,
  joinNetwork,
  leaveAllNetworks,
  leaveNetwork,
  listNetworks,
  removeNetwork,
} from '../../lib/network/store.js';
import { parseSubnet } from '../../lib/network/subnet.js';

// The built module (scripts/test builds before tap runs): a plain node child needs JavaScript.
const storeModule = fileURLToPath(new URL('../../dist/lib/network/store.js', import.meta.url));

const MAC = (n: number) => `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`;

t.test('create, list, get, remove; files private, written whole', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const options = { dir, routes: [] };
  const lab = await createNetwork('lab', {}, options);
  t.match(lab, { schema: 1, name: 'lab', subnet: /^10\.\d+\.\d+\.0\/24$/, members: {} });
  const web = await createNetwork('web', { subnet: '192.168.77.0/29' }, options);
  t.equal(web.subnet, '192.168.77.0/29');
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(statSync(join(dir, 'lab.json')).mode & 0o777, 0o600);
  t.same(readdirSync(dir).sort(), ['.lock.key', 'lab.json', 'web.json'], 'no temporary files left');
  t.same(JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')), lab);
  t.same(await getNetwork('lab', options), lab);

  await t.rejects(createNetwork('lab', {}, options), { code: 'NETWORK_EXISTS', hint: /network rm lab/ });
  await t.rejects(createNetwork('other', { subnet: lab.subnet }, options), {
    code: 'NETWORK_SUBNET_INVALID',
    message: /overlaps network lab/,
  });
  await t.rejects(createNetwork('Bad_Name', {}, options), { code: 'NETWORK_NAME_INVALID' });
  await t.rejects(getNetwork('lba', options), { code: 'NETWORK_NOT_FOUND', hint: /did you mean 'lab'/ });

  writeFileSync(join(dir, 'broken.json'), '{"schema": 1');
  const listed = await listNetworks(options);
  t.same(
    listed.networks.map((n) => n.name),
    ['lab', 'web'],
  );
  t.match(listed.broken, [{ name: 'broken', problem: /network record .*broken\.json is damaged/ }]);
  await t.rejects(getNetwork('broken', options), { code: 'NETWORK_INVALID', hint: /remove it/ });

  t.same(await removeNetwork('web', options), web);
  await t.rejects(getNetwork('web', options), { code: 'NETWORK_NOT_FOUND' });
  await t.rejects(removeNetwork('web', options), { code: 'NETWORK_NOT_FOUND' });
});

t.test('a subnet overlapping a host route is refused; a chosen one steps past it', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const first = await createNetwork('lab', {}, { dir, routes: [] });
  await removeNetwork('lab', { dir });
  const routes = [parseSubnet(first.subnet)];
  const again = await createNetwork('lab', {}, { dir, routes });
  t.not(again.subnet, first.subnet);
  await t.rejects(createNetwork('x', { subnet: first.subnet }, { dir, routes }), {
    message: /overlaps the host's route/,
  });
});

t.test(
  'joining: lowest free address, stable, released on leave; a full network says who holds it',
  async (t) => {
    const dir = join(t.testdir(), 'networks');
    const options = { dir, routes: [] };
    await createNetwork('lab', { subnet: '10.66.0.0/29' }, options);
    const a = await joinNetwork('lab', 'pa', MAC(1), options);
    t.same(a, { network: 'lab', subnet: '10.66.0.0/29', prefix: 29, address: '10.66.0.2', mac: MAC(1) });
    t.same(await joinNetwork('lab', 'pa', MAC(1), options), a, 'joining again keeps the address');
    const b = await joinNetwork('lab', 'pb', MAC(2), options);
    t.equal(b.address, '10.66.0.3');
    await leaveNetwork('lab', 'pa', options);
    await leaveNetwork('lab', 'pa', options);
    await leaveNetwork('gone', 'pa', options);
    t.equal(
      (await joinNetwork('lab', 'pc', MAC(3), options)).address,
      '10.66.0.2',
      'a freed address is reused',
    );
    for (const [i, name] of ['pd', 'pe', 'pf'].entries()) await joinNetwork('lab', name, MAC(4 + i), options);
    await t.rejects(joinNetwork('lab', 'pg', MAC(9), options), {
      code: 'NETWORK_FULL',
      message:
        /network lab \(10\.66\.0\.0\/29\) has no free address for pg: its 5 are held by pb, pc, pd, pe, pf/,
      hint: /qlaunch rm/,
    });
    await t.rejects(removeNetwork('lab', options), {
      code: 'NETWORK_IN_USE',
      message: /network lab has members: pb, pc, pd, pe, pf/,
      hint: /qlaunch rm pb pc pd pe pf/,
    });
  },
);

t.test('leaving every network where there are none makes no directory', async (t) => {
  const dir = join(t.testdir(), 'networks');
  t.same(await leaveAllNetworks('pa', { dir }), []);
  t.notOk(existsSync(dir));
  await joinNetwork('lab', 'pa', MAC(1), { dir, routes: [] });
  await joinNetwork('db', 'pa', MAC(2), { dir, routes: [] });
  t.same(await leaveAllNetworks('pa', { dir }), ['db', 'lab']);
  t.same((await getNetwork('lab', { dir })).members, {});
});

t.test('the first join makes the network, with its chosen subnet', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const lease = await joinNetwork('fresh', 'pa', MAC(1), { dir, routes: [] });
  const record = await getNetwork('fresh', { dir });
  t.equal(record.subnet, lease.subnet);
  t.equal(lease.prefix, 24);
  t.same(record.members, { pa: { address: lease.address, mac: MAC(1) } });
});

t.test('concurrent joins in one process never share an address', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const options = { dir, routes: [] };
  const names = Array.from({ length: 12 }, (_, i) => `m${i}`);
  const leases = await Promise.all(names.map((name, i) => joinNetwork('lab', name, MAC(i), options)));
  const addresses = leases.map((l) => l.address);
  t.equal(new Set(addresses).size, names.length, 'all different');
  t.same(
    Object.keys((await getNetwork('lab', options)).members).sort(),
    [...names].sort(),
    'every join recorded',
  );
});

t.test('concurrent joins from separate processes never share an address', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const join1 = (name: string, mac: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import(${JSON.stringify(storeModule)}).then(async (m) => { const lease = await m.joinNetwork('lab', ${JSON.stringify(name)}, ${JSON.stringify(mac)}, { dir: ${JSON.stringify(dir)}, routes: [] }); console.log(lease.address); })`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
    });
  const names = Array.from({ length: 4 }, (_, i) => `p${i}`);
  const addresses = await Promise.all(names.map((name, i) => join1(name, MAC(i))));
  t.equal(new Set(addresses).size, names.length, `all different: ${addresses.join(' ')}`);
  const members = (await getNetwork('lab', { dir })).members;
  t.same(Object.keys(members).sort(), names, 'every join recorded');
  t.same(
    names.map((n) => members[n]?.address),
    addresses,
  );
});

t.test('a file where the networks directory belongs: named, never removed', async (t) => {
  const dir = join(t.testdir({ networks: 'my notes\n' }), 'networks');
  const fix = /qlaunch does not delete files it did not make/;
  await t.rejects(createNetwork('lab', {}, { dir, routes: [] }), {
    code: 'PATH_NOT_DIRECTORY',
    message: `${dir} is a file, not a directory: qlaunch keeps its private networks there`,
    hint: fix,
  });
  await t.rejects(joinNetwork('lab', 'pa', MAC(1), { dir, routes: [] }), { code: 'PATH_NOT_DIRECTORY' });
  await t.rejects(getNetwork('lab', { dir }), { code: 'PATH_NOT_DIRECTORY', hint: fix });
  t.same(await listNetworks({ dir }), { networks: [], broken: [] });
  t.equal(readFileSync(dir, 'utf8'), 'my notes\n');
});

t.test('a throwaway member lives as long as the process that launched it', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const options = { dir, routes: [] };
  const instance = await joinNetwork('lab', 'pa', MAC(1), options, { agent: '/run/pa/qga.sock' });
  // A process that has exited: its pid is free (or another process's, told apart by its start time).
  const child = spawn(process.execPath, ['-e', '']);
  const dead = await new Promise<number>((done) => child.on('exit', () => done(child.pid ?? 0)));
  const gone = await joinNetwork('lab', 't1', MAC(2), options, { owner: { pid: dead } });
  t.same(Object.keys((await getNetwork('lab', options)).members), ['pa'], 'its member is not listed');
  t.same(
    (await listNetworks(options)).networks.map((n) => Object.keys(n.members)),
    [['pa']],
    'nor in the list',
  );
  const live = await joinNetwork('lab', 't2', MAC(3), options, { owner: { pid: process.pid } });
  t.equal(live.address, gone.address, "the killed launcher's address is free again");
  const record = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8'));
  t.same(Object.keys(record.members).sort(), ['pa', 't2'], 'and swept from the file');
  t.same(record.members.pa, { address: instance.address, mac: MAC(1), agent: '/run/pa/qga.sock' });

  // One name, one member: a throwaway guest never takes (or shares) a name that is held.
  for (const [name, held] of [
    ['pa', 'an instance'],
    ['t2', 'a running guest'],
  ] as const) {
    await t.rejects(
      joinNetwork('lab', name, MAC(4), options, { owner: { pid: process.pid } }),
      { code: 'NETWORK_MEMBER_TAKEN', message: `network lab already has a member named ${name} (${held}` },
      `${name} is taken`,
    );
  }
  await t.rejects(joinNetwork('lab', 't2', MAC(3), options), { code: 'NETWORK_MEMBER_TAKEN' });
  t.equal(
    (await joinNetwork('lab', 'pa', MAC(1), options, { agent: '/run/pa/qga.sock' })).address,
    instance.address,
  );
});

t.test('removing a network counts only live members', async (t) => {
  const dir = join(t.testdir(), 'networks');
  const options = { dir, routes: [] };
  const child = spawn(process.execPath, ['-e', '']);
  const dead = await new Promise<number>((done) => child.on('exit', () => done(child.pid ?? 0)));
  await joinNetwork('lab', 't1', MAC(2), options, { owner: { pid: dead } });
  await removeNetwork('lab', options);
  t.notOk(existsSync(join(dir, 'lab.json')), 'a network whose only member was a killed guest is removed');
});
