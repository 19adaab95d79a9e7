// launch() takes one input type and honours every option on the kernel and the cloud path alike, or refuses it
// with a reason; none of these cases needs a guest to boot.
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { shortTempDir, testHome } from '../fixtures/guests.js';

t.setTimeout(120_000);

/** A qlaunch home with the Debian test image, and a private run dir whose leftovers can be checked. */
async function cloudEnv(t: Test) {
  const home = await testHome();
  const runtime = shortTempDir(t);
  const tmp = shortTempDir(t);
  const saved = { ...process.env };
  process.env['QLAUNCH_HOME'] = home;
  process.env['XDG_RUNTIME_DIR'] = runtime;
  process.env['TMPDIR'] = tmp;
  t.teardown(() => {
    for (const key of ['QLAUNCH_HOME', 'XDG_RUNTIME_DIR', 'TMPDIR']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
  const leftovers = () => [...readdirSync(join(runtime, 'qlaunch')), ...readdirSync(tmp)];
  return { leftovers };
}

t.test('input that is not a launch description is refused with the form it takes', async (t) => {
  for (const input of [null, undefined, 'debian-12-local', 42]) {
    await t.rejects(launch(input as never), { code: 'SPEC_INVALID', message: /launch\(\) takes an object/ });
  }
});

t.test('options of one kind of guest given to the other are refused, not ignored', async (t) => {
  await t.rejects(launch({ kernel: '/k', diskSize: '2G', userData: '/u' }), {
    code: 'SPEC_INVALID',
    message: 'diskSize, userData mean nothing for a kernel guest',
  });
  await t.rejects(launch({ kernel: '/k' }, { keep: true }), {
    code: 'SPEC_INVALID',
    message: 'keep means nothing for a kernel guest',
  });
  await t.rejects(launch({ kernel: '/k' }, { waitReady: false, readyTimeout: 5 }), {
    code: 'SPEC_INVALID',
    message: 'waitReady, readyTimeout mean nothing for a kernel guest',
  });
  await t.rejects(launch({ image: 'debian-12-local', kernel: '/k', disks: ['/d'] }), {
    code: 'SPEC_INVALID',
    message: 'kernel, disks mean nothing for a cloud image guest',
  });
});

t.test('an already aborted signal launches nothing, on either path', async (t) => {
  const signal = AbortSignal.abort();
  await t.rejects(launch({ kernel: '/k' }, { signal }), { code: 'VM_ABORTED' });
  await t.rejects(launch({ image: 'debian-12-local' }, { signal }), { code: 'VM_ABORTED' });
});

t.test('the cloud path honours `binary` and leaves nothing behind when it cannot run', async (t) => {
  const { leftovers } = await cloudEnv(t);
  await t.rejects(
    launch(
      { image: 'debian-12-local' },
      { binary: '/nonexistent/qemu-system-x86_64', accel: { accel: 'tcg' } },
    ),
    { code: 'VM_START_FAILED', message: /\/nonexistent\/qemu-system-x86_64/ },
  );
  t.same(leftovers(), [], 'no run dir, overlay, seed or socket left');
});

t.test('the cloud path honours `startTimeout`', async (t) => {
  const { leftovers } = await cloudEnv(t);
  const dir = t.testdir();
  // A "QEMU" that never opens its QMP socket.
  const stuck = join(dir, 'qemu-stuck');
  writeFileSync(stuck, '#!/bin/sh\nexec sleep 60\n');
  chmodSync(stuck, 0o755);
  const started = Date.now();
  await t.rejects(
    launch({ image: 'debian-12-local' }, { binary: stuck, accel: { accel: 'tcg' }, startTimeout: 700 }),
    { code: 'VM_START_FAILED', message: /did not open its QMP socket in time/ },
  );
  t.ok(Date.now() - started < 15_000, 'gave up after the start timeout, not the 30 s default');
  t.same(leftovers(), [], 'nothing left behind');
});

t.test('the cloud path honours `firmwareDirs`', async (t) => {
  const { leftovers } = await cloudEnv(t);
  const empty = t.testdir();
  await t.rejects(
    launch(
      { image: 'debian-12-local', firmware: 'uefi' },
      { firmwareDirs: [empty], accel: { accel: 'tcg' } },
    ),
    { code: 'HOST_FIRMWARE_MISSING' },
  );
  t.same(leftovers(), [], 'nothing left behind');
});
