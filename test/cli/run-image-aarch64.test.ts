// `qlaunch run --arch aarch64 debian-12-local -- COMMAND` for real: the arm64 image built here under qemu-user, booted under TCG.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

// One aarch64 guest under TCG: ~45 s on an idle host, minutes on a busy one (plus the image build, if not cached).
t.setTimeout(1_800_000);

t.test('run --arch aarch64 debian-12-local: an arm64 kernel and userland, cloud-init done', async (t) => {
  const home = await testHome(['aarch64']);
  const runtime = shortTempDir(t);
  const started = Date.now();
  const result = await execa(
    process.execPath,
    [
      cliPath,
      'run',
      '--arch',
      'aarch64',
      'debian-12-local',
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
  t.same(result.stdout.split('\n'), ['aarch64', 'arm64', 'status: done']);
  t.match(result.stderr, /qlaunch: booting debian-12-local \(aarch64, 2 vCPU/);
  const ready = /qlaunch: ready after ([\d.]+) s/.exec(result.stderr);
  t.ok(ready, 'the CLI says when the guest was ready');
  t.comment(`ready after ${ready?.[1]} s; run took ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  t.same(readdirSync(join(runtime, 'qlaunch')), [], 'overlay, seed, key and sockets are gone');
  const qemu = await execa('pgrep', ['-f', runtime], { reject: false });
  t.equal(qemu.stdout, '', 'no QEMU left');
});
