// Host networks refused to a user who is not root (an injected uid), before anything is written or made; --nat
// without --host refused too.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { requireRoot } from '../../lib/network/host-run.js';
import { writeNetworkRecord } from '../../lib/network/record.js';
import { createNetwork, joinNetwork, removeNetwork } from '../../lib/network/store.js';

t.test('--host without root: a clear error naming the fix, and no record', async (t) => {
  const dir = join(t.testdir(), 'networks');
  await t.rejects(createNetwork('lan', { host: true }, { dir, routes: [], uid: 1000 }), {
    code: 'NETWORK_NEEDS_ROOT',
    message: /host network lan needs root/,
    hint: /sudo.*--network bridge:BR/s,
  });
  t.notOk(existsSync(join(dir, 'lan.json')), 'nothing recorded');
  t.throws(() => requireRoot('x', 1000), { code: 'NETWORK_NEEDS_ROOT' });
  t.doesNotThrow(() => requireRoot('x', 0));
});

t.test('--nat without --host is refused', async (t) => {
  const dir = join(t.testdir(), 'networks');
  await t.rejects(createNetwork('lan', { nat: true }, { dir, routes: [], uid: 0 }), {
    code: 'USAGE',
    hint: /--host --nat/,
  });
});

t.test('joining or removing a host network without root is refused', async (t) => {
  const dir = t.testdir();
  await writeNetworkRecord(join(dir, 'lan.json'), {
    schema: 1,
    name: 'lan',
    subnet: '10.77.0.0/24',
    created: new Date().toISOString(),
    members: {},
    host: { bridge: 'qlb-lan', nat: false, taps: {} },
  });
  const user = { dir, routes: [], uid: 1000 };
  await t.rejects(joinNetwork('lan', 'pa', '52:54:00:00:00:01', user), { code: 'NETWORK_NEEDS_ROOT' });
  await t.rejects(removeNetwork('lan', user), { code: 'NETWORK_NEEDS_ROOT' });
  t.ok(existsSync(join(dir, 'lan.json')), 'the record stays');
});
