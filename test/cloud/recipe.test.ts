// The user-data a cloud guest gets: a file that is missing or unreadable is named with the fix, never a bare errno.

import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { cloudSeedFiles, fstabEntry, userDataFor } from '../../lib/cloud/recipe.js';
import type { ResolvedMachine } from '../../lib/machine/resolve.js';

const withFile = (path: string) => ({ userData: { kind: 'file', path } }) as ResolvedMachine;

t.test('a user-data file: read byte for byte, or refused with a code and a fix', async (t) => {
  const dir = t.testdir({ 'u,1 é.yaml': '#cloud-config\n{}\n', 'd:ir': {} });
  const read = await userDataFor(withFile(join(dir, 'u,1 é.yaml')));
  t.same(Buffer.from(read), Buffer.from('#cloud-config\n{}\n'));
  await t.rejects(userDataFor(withFile(join(dir, 'no such,file'))), {
    code: 'SEED_INVALID',
    message: `user-data file ${join(dir, 'no such,file')} does not exist`,
    hint: /existing user-data file/,
  });
  await t.rejects(userDataFor(withFile(join(dir, 'd:ir'))), {
    code: 'SEED_INVALID',
    message: /user-data file .*d:ir is a directory/,
    hint: /existing user-data file/,
  });
});

t.test('the fstab entry of a mount: its tag, mount point, transport and access, nofail', async (t) => {
  t.same(fstabEntry({ tag: 'm0', guest: '/src', transport: '9p', writable: false }), [
    'm0',
    '/src',
    '9p',
    'trans=virtio,version=9p2000.L,msize=524288,ro,nofail',
    '0',
    '0',
  ]);
  t.same(fstabEntry({ tag: 'm1', guest: '/out', transport: 'virtiofs', writable: true }), [
    'm1',
    '/out',
    'virtiofs',
    'rw,nofail',
    '0',
    '0',
  ]);
});

t.test(
  'the seed files: a network-config only for a guest on private networks, matching each NIC by MAC',
  async (t) => {
    const plain = cloudSeedFiles('instance-id: x\n', '#cloud-config\n{}\n', [], undefined);
    t.same(Object.keys(plain).sort(), ['meta-data', 'user-data', 'vendor-data']);
    const userOnly = cloudSeedFiles('m', 'u', [], { mac: '52:54:00:00:00:01', privateLinks: [] });
    t.notOk('network-config' in userOnly, 'user networking alone keeps the image fallback');
    const files = cloudSeedFiles('m', 'u', [], {
      mac: '52:54:00:00:00:01',
      privateLinks: [{ mac: '02:00:00:00:00:02', address: '10.66.0.2', prefix: 24 }],
    });
    t.same(parse(String(files['network-config'])), {
      version: 2,
      ethernets: {
        primary: { match: { macaddress: '52:54:00:00:00:01' }, dhcp4: true },
        private0: {
          match: { macaddress: '02:00:00:00:00:02' },
          dhcp4: false,
          dhcp6: false,
          addresses: ['10.66.0.2/24'],
          optional: true,
        },
      },
    });
    t.equal(files['user-data'], 'u', 'user-data untouched');
  },
);
