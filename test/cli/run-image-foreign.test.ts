// `qlaunch run --arch ARCH debian-N-local -- COMMAND` for real on the foreign architectures: the arm64 (Debian 12)
// and riscv64 (Debian 13) images built here under qemu-user, booted under TCG by their own kernels.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

// One foreign guest under TCG: ~45 s (aarch64) to ~2 min (riscv64) on an idle host, minutes on a busy one.
t.setTimeout(2_400_000);

const guests = [
  { arch: 'aarch64', template: 'debian-12-local', dpkg: 'arm64' },
  { arch: 'riscv64', template: 'debian-13-local', dpkg: 'riscv64' },
] as const;

for (const { arch, template, dpkg } of guests) {
  t.test(`run --arch ${arch} ${template}: a ${dpkg} kernel and userland, cloud-init done`, async (t) => {
    const home = await testHome([arch]);
    const runtime = shortTempDir(t);
    const started = Date.now();
    const result = await execa(
      process.execPath,
      [
        cliPath,
        'run',
        '--arch',
        arch,
        template,
        '--cpus',
        '2',
        '--accel',
        'tcg',
        '--timeout',
        '900',
        '--',
        'sh',
        '-c',
        'uname -m; dpkg --print-architecture; cloud-init status',
      ],
      {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime },
        extendEnv: false,
      },
    );
    t.equal(result.exitCode, 0, result.stderr);
    t.same(result.stdout.split('\n'), [arch, dpkg, 'status: done']);
    t.match(result.stderr, new RegExp(`qlaunch: booting ${template} \\(${arch}, 2 vCPU`));
    t.notMatch(result.stderr, /building \S+ from Debian packages/, 'the stored test image, not a new build');
    const ready = /qlaunch: ready after ([\d.]+) s/.exec(result.stderr);
    t.ok(ready, 'the CLI says when the guest was ready');
    t.comment(`ready after ${ready?.[1]} s; run took ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
    t.same(readdirSync(join(runtime, 'qlaunch')), [], 'overlay, seed, key and sockets are gone');
    const qemu = await execa('pgrep', ['-f', runtime], { reject: false });
    t.equal(qemu.stdout, '', 'no QEMU left');
  });
}
