import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  ACCEL_CACHE_FILE,
  type AccelCacheEntry,
  type AccelCacheKey,
  defaultCacheDir,
  findEntry,
  hostIdentity,
  readAccelCache,
  withEntry,
  writeAccelCache,
} from '../../lib/host/accel-cache.js';

const key = (over: Partial<AccelCacheKey> = {}): AccelCacheKey => ({
  arch: 'x86_64',
  kernelRelease: '6.1.0-test',
  bootId: 'boot-1',
  qemuPath: '/usr/bin/qemu-system-x86_64',
  qemuStamp: '1000:1700000000000:42',
  ...over,
});
const entry = (k: AccelCacheKey, accel: 'kvm' | 'tcg' = 'tcg'): AccelCacheEntry => ({
  key: k,
  verdict: { accel, reason: `${accel} because`, ...(accel === 'kvm' ? { cpu: 'host' } : {}) },
  probedAt: '2024-01-01T00:00:00.000Z',
});

t.test('defaultCacheDir: QLAUNCH_HOME/cache, else XDG_CACHE_HOME, else ~/.cache', async (t) => {
  t.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/qlaunch');
  t.match(defaultCacheDir({}), /\/\.cache\/qlaunch$/);
  t.match(defaultCacheDir({ XDG_CACHE_HOME: 'relative/dir' }), /\/\.cache\/qlaunch$/, 'relative is ignored');
  t.equal(defaultCacheDir({ QLAUNCH_HOME: '/q/home', XDG_CACHE_HOME: '/x/cache' }), '/q/home/cache');
  t.equal(
    defaultCacheDir({ QLAUNCH_HOME: 'rel' }),
    join(process.cwd(), 'rel', 'cache'),
    'relative: from the cwd',
  );
});

t.test('hostIdentity: this kernel and this boot', async (t) => {
  const id = await hostIdentity();
  t.match(id, { kernelRelease: /\S/, bootId: /\S/ });
  t.same(await hostIdentity(), id, 'stable within a boot');
});

t.test('findEntry matches every key field', async (t) => {
  const entries = [
    entry(key()),
    entry(key({ arch: 'aarch64', qemuPath: '/usr/bin/qemu-system-aarch64' }), 'kvm'),
  ];
  t.equal(findEntry(entries, key()), entries[0]);
  for (const other of [
    { bootId: 'boot-2' },
    { kernelRelease: '6.2' },
    { qemuPath: '/opt/qemu' },
    { qemuStamp: '1001:1700000000000:42' },
    { arch: 'riscv64' as const },
  ]) {
    t.equal(findEntry(entries, key(other)), undefined, JSON.stringify(other));
  }
});

t.test('withEntry replaces the same key and drops other boots', async (t) => {
  const old = entry(key({ bootId: 'boot-0' }));
  const other = entry(key({ qemuPath: '/opt/qemu' }));
  const first = entry(key());
  const second = entry(key(), 'kvm');
  t.same(withEntry([old, other, first], second), [other, second]);
  t.same(withEntry([], first), [first]);
});

t.test('write then read: private file in a private dir', async (t) => {
  const dir = join(t.testdir(), 'deep', 'qlaunch');
  const entries = [entry(key()), entry(key({ arch: 'aarch64' }), 'kvm')];
  await writeAccelCache(dir, entries);
  t.equal((await stat(dir)).mode & 0o777, 0o700);
  t.equal((await stat(join(dir, ACCEL_CACHE_FILE))).mode & 0o777, 0o600);
  t.same(await readAccelCache(dir), entries);
  await writeAccelCache(dir, [entries[0] as AccelCacheEntry]);
  t.same(await readAccelCache(dir), [entries[0]], 'replaced, not appended');
});

t.test('a missing, broken or foreign cache file is an empty cache', async (t) => {
  const dir = t.testdir();
  t.same(await readAccelCache(join(dir, 'none')), []);
  const file = join(dir, ACCEL_CACHE_FILE);
  for (const text of ['{ nope', 'null', '{"version": 2, "entries": []}', '{"version": 1, "entries": {}}']) {
    await writeFile(file, text);
    t.same(await readAccelCache(dir), [], text);
  }
  const good = entry(key());
  await writeFile(
    file,
    JSON.stringify({
      version: 1,
      entries: [good, { key: {} }, null, { ...good, verdict: { accel: 'xen' } }],
    }),
  );
  t.same(await readAccelCache(dir), [good], 'malformed entries are dropped');
});

t.test('an unwritable cache dir is an error for the caller to ignore', async (t) => {
  const dir = t.testdir({ file: 'x' });
  await t.rejects(writeAccelCache(join(dir, 'file', 'qlaunch'), []));
});
