// The machine catalog: asked of the real QEMU once per build, then read from the cache until the binary changes.

import { chmodSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { locateQemu } from '../../lib/host/binaries.js';
import { MACHINE_CACHE_FILE, machineCatalog } from '../../lib/host/machine-cache.js';

/** A qemu-system-x86_64 that logs each run to `log`, then is the real one. */
async function countingQemu(dir: string): Promise<{ binary: string; runs: () => number }> {
  const real = await locateQemu('x86_64');
  const binary = join(dir, 'qemu-system-x86_64');
  const log = join(dir, 'runs.log');
  writeFileSync(log, '');
  writeFileSync(binary, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${real}' "$@"\n`);
  chmodSync(binary, 0o755);
  return { binary, runs: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

t.test('the real QEMU is asked once per build; its version and q35 alias are what it says', async (t) => {
  const dir = t.testdir();
  const cacheDir = join(dir, 'cache');
  const qemu = await countingQemu(dir);
  const first = await machineCatalog(qemu.binary, { cacheDir });
  const asked = qemu.runs();
  t.equal(asked, 2, '-version and -machine help');

  const banner = (await execa(qemu.binary, ['-version'])).stdout;
  const help = (await execa(qemu.binary, ['-machine', 'help'])).stdout;
  const q35 = /^q35\s.*\(alias of (\S+)\)/m.exec(help)?.[1];
  t.ok(q35, 'this QEMU says what q35 is');
  t.match(first, { qemuPath: qemu.binary, qemuVersion: /^\d+\.\d+\.\d+$/ });
  t.ok(banner.includes(`version ${first?.qemuVersion}`), `${first?.qemuVersion} is the version in ${banner}`);
  t.match(
    first?.machines.find((m) => m.name === 'q35'),
    { aliasOf: q35 },
  );
  const before = qemu.runs();

  t.same(
    await machineCatalog(qemu.binary, { cacheDir }),
    JSON.parse(JSON.stringify(first)),
    'the same answer',
  );
  t.equal(qemu.runs(), before, 'from the cache: QEMU was not run');
  t.match(JSON.parse(readFileSync(join(cacheDir, MACHINE_CACHE_FILE), 'utf8')), {
    version: 1,
    entries: [{ qemuPath: qemu.binary }],
  });

  // An upgrade changes the binary (here its mtime): asked again.
  utimesSync(qemu.binary, new Date(), new Date(Date.now() + 5000));
  t.equal((await machineCatalog(qemu.binary, { cacheDir }))?.machines.length, first?.machines.length);
  t.equal(qemu.runs(), before + 2, 'a changed binary is asked again');
});

t.test('a QEMU that cannot say gives no catalog, and nothing is cached', async (t) => {
  const dir = t.testdir();
  const binary = join(dir, 'qemu-system-x86_64');
  writeFileSync(binary, '#!/bin/sh\nexit 1\n');
  chmodSync(binary, 0o755);
  t.equal(await machineCatalog(binary, { cacheDir: join(dir, 'cache') }), undefined);
  t.equal(await machineCatalog(join(dir, 'none'), { cacheDir: join(dir, 'cache') }), undefined);
  t.throws(() => readFileSync(join(dir, 'cache', MACHINE_CACHE_FILE)), { code: 'ENOENT' });
});
