// Instances on private networks under a root of their own, made and removed without booting: the root keeps its
// networks' records with it, and removal gives each address back.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { shortTempDir } from '../fixtures/guests.js';
import { makeQcow2 } from '../image/disks.js';

// Each create probes QEMU's machine types and makes an overlay: slow on a busy 2-core host.
t.setTimeout(120_000);

t.test('create and destroy keep ROOT/.networks up to date', async (t) => {
  const root = shortTempDir(t);
  const image = await makeQcow2(root, 'base.qcow2', 16);
  const options = { root };
  const a = await Instance.create({ name: 'a', image, networks: ['private:lab', 'private:db'] }, options);
  const b = await Instance.create({ name: 'b', image, networks: ['private:lab'] }, options);
  const lab = JSON.parse(readFileSync(join(root, '.networks', 'lab.json'), 'utf8'));
  const base = lab.subnet.replace(/0\/24$/, '');
  t.same(
    a.config.networks.map((n) => [n.name, n.address]),
    [
      ['lab', `${base}2/24`],
      ['db', a.config.networks[1]?.address],
    ],
  );
  t.equal(b.config.networks[0]?.address, `${base}3/24`);
  const info = await a.info();
  t.same(
    info.addresses,
    a.config.networks.map((n) => ({ network: n.name, address: n.address })),
    'info() gives its addresses, as the page shows them',
  );
  t.ok((info.diskBytes ?? 0) > 0, `and the bytes its disk takes (${info.diskBytes})`);
  t.same(Object.keys(lab.members), ['a', 'b']);
  t.same(await Instance.names(options), ['a', 'b'], 'the networks directory is no instance');

  await Instance.destroy('a', options);
  const after = JSON.parse(readFileSync(join(root, '.networks', 'lab.json'), 'utf8'));
  t.same(Object.keys(after.members), ['b']);
  t.same(JSON.parse(readFileSync(join(root, '.networks', 'db.json'), 'utf8')).members, {});
  await Instance.destroy('b', options);
  t.notOk(existsSync(join(root, 'a')));
});
