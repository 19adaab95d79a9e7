// A disk with nothing to boot, on real QEMU: SeaBIOS and iPXE write to the screen only, so the serial console stays
// empty; launch() notices the silence and fails fast, leaving nothing behind.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { Instance } from '../../lib/instance/instance.js';
import { shortTempDir, useEnv } from '../fixtures/guests.js';

t.setTimeout(240_000);

/** QEMU processes that are children of this test (attached guests are). */
const qemuChildren = async (): Promise<string[]> => {
  const { stdout } = await execa('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], {
    reject: false,
  });
  return stdout
    .split('\n')
    .filter((line) => line.includes('qemu'))
    .map((line) => line.trim());
};

/** A private qlaunch home and run base, and a blank qcow2 disk in it. */
async function blankDiskHome(t: Test): Promise<{ disk: string; runs: string }> {
  const dir = shortTempDir(t);
  useEnv(t, { QLAUNCH_HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run') });
  const disk = join(dir, 'blank.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1G']);
  return { disk, runs: join(dir, 'run', 'qlaunch') };
}

t.test(
  'a blank disk fails with VM_NOTHING_TO_BOOT within the bound, not the readiness timeout',
  async (t) => {
    const { disk, runs } = await blankDiskHome(t);
    const started = Date.now();
    const error = await launch(
      { image: disk, memory: '256M' },
      { accel: { accel: 'tcg' }, firstOutputTimeout: 5000, readyTimeout: 60_000 },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.comment(`failed after ${Date.now() - started} ms`);
    t.match(error, {
      code: 'VM_NOTHING_TO_BOOT',
      message: /wrote nothing on its serial console within 5 s of booting from its disk/,
      hint: /nothing to boot.*kernel:/,
    });
    t.same(await qemuChildren(), [], 'no QEMU left running');
    t.same(readdirSync(runs), [], 'no run directory left');
  },
);

t.test(
  'an instance on a blank disk: VM_NOTHING_TO_BOOT, left running for a look, saying how to stop it',
  async (t) => {
    const { disk } = await blankDiskHome(t);
    const root = join(process.env['QLAUNCH_HOME'] ?? '', 'instances');
    const blank = await Instance.create(
      { name: 'blank', image: disk, memory: '256M', accel: 'tcg' },
      { root },
    );
    t.teardown(() => Instance.destroy('blank', { root, force: true }).catch(() => {}));
    await t.rejects(blank.start({ firstOutputTimeout: 5000, timeout: 60_000 }), {
      code: 'VM_NOTHING_TO_BOOT',
      message:
        /^instance blank started but is not ready: the guest wrote nothing on its serial console within 5 s/,
      hint: /nothing to boot.*qlaunch stop blank/,
    });
    t.match(await blank.status(), { state: 'running' }, 'left for `qlaunch logs`, as a broken start is');
    await blank.stop({ force: true });
    t.match(await blank.status(), { state: 'stopped' });
  },
);

t.test('aborting the wait for a guest: VM_ABORTED with a hint, nothing left running', async (t) => {
  const { disk, runs } = await blankDiskHome(t);
  const error = await launch(
    { image: disk, memory: '256M' },
    { accel: { accel: 'tcg' }, firstOutputTimeout: false, signal: AbortSignal.timeout(3000) },
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.match(error, { code: 'VM_ABORTED', hint: /nothing was left running/ });
  t.same(await qemuChildren(), [], 'no QEMU left running');
  t.same(readdirSync(runs), [], 'no run directory left');
});

t.test('firstOutputTimeout must be a positive number of ms or false', async (t) => {
  for (const bad of [0, -1, 'soon', true]) {
    await t.rejects(launch({ image: 'x' }, { firstOutputTimeout: bad as never }), {
      code: 'SPEC_INVALID',
      message: /^firstOutputTimeout .* is not a positive number of milliseconds/,
      hint: /false/,
    });
  }
  await t.rejects(launch({ kernel: '/boot/none' }, { firstOutputTimeout: 1000 }), {
    code: 'SPEC_INVALID',
    message: /firstOutputTimeout means nothing for a kernel guest/,
  });
  await t.rejects(launch({ kernel: '/boot/none' }, { sshMaster: true }), {
    code: 'SPEC_INVALID',
    message: /sshMaster means nothing for a kernel guest/,
  });
});
