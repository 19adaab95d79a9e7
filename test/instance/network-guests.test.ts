// Debian cloud instances on private networks: each member's NIC is up with its recorded address on every boot, and
// members reach each other by name (NAME and NAME.NET), a member made later included, without a restart; a member
// of another network reaches none of them.

import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { Instance } from '../../lib/instance/instance.js';
import { networksDirFor } from '../../lib/instance/layout.js';
import { getNetwork } from '../../lib/network/store.js';
import { shortTempDir, testHome, useEnv } from '../fixtures/guests.js';

t.setTimeout(1_800_000);

// One echo by name: the test image carries iputils-ping (scripts/guests/debian-cloud.mjs).
const ping = (host: string, seconds = 10) => ['ping', '-c1', '-W', String(seconds), host];
const reach = (guest: Instance, host: string, seconds = 10) => run(guest, ping(host, seconds));
const ECHOED = / 1 received/;

/** Run `argv` in the guest; its output (stdout and stderr) and exit code. */
async function run(guest: Instance, argv: string[]): Promise<{ code: number; out: string }> {
  const result = await guest.exec(argv, { timeout: 60_000 });
  return { code: result.exitCode, out: `${result.stdout.toString()}${result.stderr.toString()}` };
}

t.test('members of private:lab have their addresses and names; private:other reaches neither', async (t) => {
  useEnv(t, { QLAUNCH_HOME: await testHome() });
  const root = shortTempDir(t);
  const dir = networksDirFor(root);
  const make = async (name: string, net: string) => {
    t.teardown(() => Instance.destroy(name, { root, force: true }).catch(() => {}));
    return Instance.create(
      { name, image: 'debian-12-local', networks: [`private:${net}`], accel: 'tcg' },
      { root },
    );
  };
  const pa = await make('pa', 'lab');
  const pb = await make('pb', 'lab');
  const lab = await getNetwork('lab', { dir });
  const address = (name: string) => lab.members[name]?.address ?? 'none';
  t.not(address('pa'), address('pb'), 'each member holds its own address');

  await pa.start();
  await pb.start();
  const link = await run(pa, ['ip', '-br', 'addr']);
  const prefix = lab.subnet.split('/')[1];
  t.match(
    link.out,
    new RegExp(`\\sUP\\s+${address('pa').replaceAll('.', '\\.')}/${prefix}\\b`),
    'the private NIC is up with its address',
  );
  t.equal((await run(pa, ['getent', 'hosts', 'pb'])).out.split(/\s/)[0], address('pb'), 'pa finds pb');
  t.match((await reach(pa, 'pb')).out, ECHOED, 'pa pings pb by name');
  t.match((await reach(pb, 'pa.lab')).out, ECHOED, 'pb pings pa by NAME.NET');

  // A member made and started after the others: they resolve it without a restart.
  await pb.stop();
  const pc = await make('pc', 'lab');
  await pc.start();
  const found = await run(pa, ['getent', 'hosts', 'pc']);
  t.equal(found.out.split(/\s/)[0], (await getNetwork('lab', { dir })).members['pc']?.address, 'pa finds pc');
  t.match((await reach(pc, 'pa')).out, ECHOED, 'pc pings pa by name');
  await pc.stop({ force: true });

  // Another network: no name for lab's members, and no way to their addresses.
  const px = await make('px', 'other');
  await px.start();
  t.not((await run(px, ['getent', 'hosts', 'pa'])).code, 0, 'px has no name for pa');
  t.not((await reach(px, address('pa'), 3)).code, 0, 'px cannot ping pa');
  await px.stop({ force: true });

  // Stop and start: the same address, and its name is still found.
  await pb.start();
  const again = await run(pb, ['ip', '-br', 'addr']);
  t.match(again.out, `${address('pb')}/${prefix}`, 'pb has its address again after a stop and start');
  t.match((await reach(pb, 'pa')).out, ECHOED, 'pb pings pa after its restart');
  await pb.stop();

  // A throwaway guest joins too while it lives: an address, names both ways; gone from the network with it.
  const guest = await launch(
    { image: 'debian-12-local', networks: ['private:lab'], hostname: 't1', accel: 'tcg' },
    { readyTimeout: 900_000, networksDir: dir },
  );
  try {
    const held = (await getNetwork('lab', { dir })).members['t1'];
    t.match(held, { owner: { pid: process.pid } }, 'the launching process owns its address');
    const t1 = await guest.exec(['ip', '-br', 'addr'], { timeout: 60_000 });
    t.match(t1.stdout.toString(), `${held?.address}/${prefix}`, 't1 has its address');
    const fromT1 = await guest.exec(ping('pa.lab'), { timeout: 60_000 });
    t.match(fromT1.stdout.toString(), ECHOED, 't1 pings pa by name');
    t.equal((await run(pa, ['getent', 'hosts', 't1'])).out.split(/\s/)[0], held?.address, 'pa finds t1');
  } finally {
    await guest[Symbol.asyncDispose]();
  }
  t.notOk((await getNetwork('lab', { dir })).members['t1'], 'gone from the network with the guest');
  await pa.stop();
});
