// Instances on private networks, made and removed without booting: each gets the lowest free address (recorded
// with the network and in instance.json), its seed configures it by MAC, and `rm` gives it back.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { privateNetMac } from '../../lib/machine/private-net.js';
import { joinNetwork } from '../../lib/network/store.js';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { makeQcow2 } from '../image/disks.js';

// Many CLI runs, each probing QEMU's machine types and making an overlay: slow on a busy 2-core host.
t.setTimeout(300_000);

const cli = (home: string, args: string[]) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });

const ok = async (t: Test, home: string, args: string[]) => {
  const result = await cli(home, args);
  t.equal(result.exitCode, 0, `qlaunch ${args.join(' ')}: ${result.stderr}`);
  return result;
};

/** A home with one stored image (a blank qcow2), as `create --image tiny` needs. */
async function homeWithImage(t: Test): Promise<string> {
  const dir = shortTempDir(t);
  const home = join(dir, 'home');
  await ok(t, home, ['image', 'import', await makeQcow2(dir, 'tiny.qcow2', 16), '--name', 'tiny']);
  return home;
}

const networkJson = async (home: string, name: string) =>
  JSON.parse((await cli(home, ['network', 'inspect', name, '--json'])).stdout);

const seedNetworkConfig = async (home: string, instance: string) => {
  const seed = join(home, 'instances', instance, 'seed.iso');
  const { stdout } = await execa('isoinfo', ['-R', '-x', '/network-config', '-i', seed]);
  return parse(stdout);
};

t.test('create joins, the seed configures the address by MAC, rm leaves', async (t) => {
  const home = await homeWithImage(t);
  await ok(t, home, ['network', 'create', 'lab', '--subnet', '10.66.0.0/24']);
  await ok(t, home, ['create', 'pa', '--image', 'tiny', '--network', 'private:lab']);
  await ok(t, home, ['create', 'pb', '--image', 'tiny', '--network', 'private:lab']);
  // Each member's agent socket is kept with it: the network's names reach the guest through it.
  const agent = (name: string) => join(home, 'instances', name, 'qga.sock');
  t.same((await networkJson(home, 'lab')).members, {
    pa: { address: '10.66.0.2', mac: privateNetMac('pa', 'lab'), agent: agent('pa') },
    pb: { address: '10.66.0.3', mac: privateNetMac('pb', 'lab'), agent: agent('pb') },
  });
  t.notMatch(
    (await ok(t, home, ['network', 'inspect', 'lab'])).stderr,
    /no instance/,
    'real members: no warning',
  );
  const config = JSON.parse(readFileSync(join(home, 'instances', 'pa', 'instance.json'), 'utf8'));
  t.same(config.networks, [{ name: 'lab', mac: privateNetMac('pa', 'lab'), address: '10.66.0.2/24' }]);
  t.same(await seedNetworkConfig(home, 'pa'), {
    version: 2,
    ethernets: {
      primary: { match: { macaddress: config.mac }, dhcp4: true },
      private0: {
        match: { macaddress: privateNetMac('pa', 'lab') },
        dhcp4: false,
        dhcp6: false,
        addresses: ['10.66.0.2/24'],
        optional: true,
      },
    },
  });
  t.match(
    (await ok(t, home, ['inspect', 'pa'])).stdout,
    /^networks: user, private:lab \(10\.66\.0\.2\/24\)$/m,
  );

  const refused = await cli(home, ['network', 'rm', 'lab']);
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /network lab has members: pa, pb.*\n {2}fix: .*`qlaunch rm pa pb`/);

  await ok(t, home, ['rm', 'pa']);
  t.same(Object.keys((await networkJson(home, 'lab')).members), ['pb'], 'rm gives the address back');
  await ok(t, home, ['create', 'pc', '--image', 'tiny', '--network', 'private:lab']);
  t.equal((await networkJson(home, 'lab')).members.pc.address, '10.66.0.2', 'and the next member gets it');

  // The first use of a network makes it; an instance on no private network gets no network-config.
  await ok(t, home, ['create', 'pd', '--image', 'tiny', '--network', 'private:fresh']);
  t.match(await networkJson(home, 'fresh'), { subnet: /^10\.\d+\.\d+\.0\/24$/, members: { pd: {} } });
  await ok(t, home, ['create', 'pe', '--image', 'tiny']);
  const plain = await execa('isoinfo', ['-R', '-f', '-i', join(home, 'instances', 'pe', 'seed.iso')]);
  t.notMatch(plain.stdout, /network-config/);

  for (const name of ['pb', 'pc', 'pd']) await ok(t, home, ['rm', name]);
  await ok(t, home, ['network', 'rm', 'lab']);
});

t.test('two creates at once never get the same address', async (t) => {
  const home = await homeWithImage(t);
  const results = await Promise.all(
    ['qa', 'qb'].map((name) => cli(home, ['create', name, '--image', 'tiny', '--network', 'private:lab'])),
  );
  for (const result of results) t.equal(result.exitCode, 0, result.stderr);
  const { members } = await networkJson(home, 'lab');
  t.same(Object.keys(members).sort(), ['qa', 'qb']);
  t.not(members.qa.address, members.qb.address);
});

t.test('a create that fails gives back the addresses it took', async (t) => {
  const home = await homeWithImage(t);
  await ok(t, home, ['network', 'create', 'full', '--subnet', '10.67.0.0/29']);
  const dir = join(home, 'networks');
  for (const [i, name] of ['m1', 'm2', 'm3', 'm4', 'm5'].entries()) {
    await joinNetwork('full', name, `02:00:00:00:00:0${i}`, { dir });
  }
  await ok(t, home, ['network', 'create', 'lab']);
  const failed = await cli(home, [
    'create',
    'px',
    '--image',
    'tiny',
    '--network',
    'private:lab',
    '--network',
    'private:full',
  ]);
  t.equal(failed.exitCode, 1);
  t.match(
    failed.stderr,
    /network full \(10\.67\.0\.0\/29\) has no free address for px: its 5 are held by m1, m2, m3, m4, m5/,
  );
  t.same((await networkJson(home, 'lab')).members, {}, 'the address on lab was given back');
  const ls = JSON.parse((await cli(home, ['ls', '--json'])).stdout);
  t.same(ls, [], 'no instance left');

  // A member whose instance directory is gone (removed by hand): `rm NAME` still gives its address back.
  await joinNetwork('lab', 'ghost', '02:00:00:00:00:aa', { dir });
  await ok(t, home, ['rm', 'ghost']);
  t.same((await networkJson(home, 'lab')).members, {});
  const unknown = await cli(home, ['rm', 'ghost']);
  t.equal(unknown.exitCode, 1, 'a name nothing knows is still an error');
  t.match(unknown.stderr, /no instance named ghost/);
});
