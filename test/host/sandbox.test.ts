// The seccomp probe on the real QEMU, and on a build without seccomp (a script answering as such a QEMU does).

import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { locateQemu } from '../../lib/host/binaries.js';
import { probeSandbox, SANDBOX_CACHE_FILE } from '../../lib/host/sandbox.js';

t.test('the real QEMU starts with the filter; the answer is cached per build', async (t) => {
  const cacheDir = t.testdir();
  const binary = await locateQemu('x86_64');
  t.match(await probeSandbox(binary, { cacheDir }), { seccomp: true, cached: false });
  t.match(await probeSandbox(binary, { cacheDir }), { seccomp: true, cached: true });
  const saved = JSON.parse(await readFile(join(cacheDir, SANDBOX_CACHE_FILE), 'utf8'));
  t.match(saved.entries, [{ qemuPath: binary, seccomp: true }]);
  t.match(await probeSandbox(binary, { cacheDir, refresh: true }), { seccomp: true, cached: false });
});

t.test('a build without seccomp is told apart, and a rebuilt binary is asked again', async (t) => {
  const dir = t.testdir();
  const binary = join(dir, 'qemu-system-x86_64');
  const noSeccomp =
    '#!/bin/sh\necho "qemu-system-x86_64: -sandbox support is not enabled in this QEMU binary" >&2\nexit 1\n';
  await writeFile(binary, noSeccomp);
  await chmod(binary, 0o755);
  const cacheDir = join(dir, 'cache');
  t.match(await probeSandbox(binary, { cacheDir }), {
    seccomp: false,
    reason: /-sandbox support is not enabled/,
    cached: false,
  });
  t.match(await probeSandbox(binary, { cacheDir }), { seccomp: false, cached: true });
  // Another build at the same path (its size changes): the cached answer no longer applies.
  await writeFile(binary, '#!/bin/sh\ncat >/dev/null\nexit 0\n');
  t.match(await probeSandbox(binary, { cacheDir }), { seccomp: true, cached: false });
});
