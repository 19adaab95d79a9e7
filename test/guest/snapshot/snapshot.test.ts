import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { ErrorCode, isQlaunchError } from '../../../lib/errors.js';
import type { Guest } from '../../../lib/guest/guest.js';
import { launch } from '../../../lib/guest/launch.js';
import {
  deleteSnapshot,
  listSnapshots,
  loadSnapshot,
  saveSnapshot,
  snapshotNodes,
} from '../../../lib/guest/snapshot/snapshot.js';
import {
  deleteSnapshotOffline,
  listSnapshotsOffline,
  loadSnapshotOffline,
} from '../../../lib/guest/snapshot/snapshot-offline.js';
import { shortTempDir, tinyGuest } from '../../fixtures/guests.js';

t.setTimeout(900_000);

const codeOf = (error: unknown) => (isQlaunchError(error) ? error.code : String(error));

/** The tiny x86_64 guest on a fresh 64 MiB qcow2, held at the power button (QLAUNCH-HOLDING). */
async function bootHolding(t: Test, memory = '256M'): Promise<{ vm: Guest; disk: string }> {
  const tiny = await tinyGuest('x86_64');
  const disk = join(shortTempDir(t), 'overlay.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  const vm = await launch({
    arch: 'x86_64',
    kernel: tiny.kernel,
    initrd: tiny.initrd,
    append: `${tiny.append} qlaunch.hold=1`,
    disks: [{ path: disk, format: 'qcow2' }],
    accel: 'tcg',
    memory,
  });
  t.teardown(() => vm.kill());
  await vm.waitForSerial('QLAUNCH-HOLDING', { timeout: 180_000 });
  return { vm, disk };
}

const status = async (vm: Guest) => (await vm.qmp.execute('query-status')).status;

/**
 * Proves a load restores the guest itself, not just the disk: the guest powers off (QEMU paused instead of
 * exiting), the snapshot taken while it held at the power button is loaded, and the same guest answers the power
 * button again.
 */
async function powerOffThenLoadBack(t: Test, vm: Guest, tag: string, method: 'job' | 'hmp'): Promise<void> {
  await vm.qmp.execute('set-action', { shutdown: 'pause' });
  await powerOff(vm);
  t.equal(await status(vm), 'shutdown', 'the guest powered off; QEMU only paused');
  await restore(vm, tag, method);
  t.equal(await status(vm), 'running');
  await powerOff(vm);
  t.pass('the restored guest was back at the power button and answered it again');
  // Back to holding, with QEMU exiting on power-off again, for whatever the test does next.
  await restore(vm, tag, method);
  await vm.qmp.execute('set-action', { shutdown: 'poweroff' });
}

/** Presses the power button of a holding guest and waits until it is off. */
async function powerOff(vm: Guest): Promise<void> {
  const [text, events] = [vm.console.length, vm.qmp.eventCursor()];
  await vm.qmp.execute('system_powerdown');
  await vm.waitForSerial('QLAUNCH-POWERDOWN', { since: text, timeout: 60_000 });
  await vm.qmp.waitFor('SHUTDOWN', { since: events, timeout: 60_000 });
}

/** Loads `tag` into a powered-off (paused) VM and runs it. */
async function restore(vm: Guest, tag: string, method: 'job' | 'hmp'): Promise<void> {
  // QEMU refuses to resume a powered-off VM until it is reset; the load then overwrites the reset state anyway.
  await vm.qmp.execute('system_reset');
  await loadSnapshot(vm.qmp, { tag, method });
  await vm.qmp.execute('cont');
}

t.test('QMP jobs: save, list, refuse duplicates, load, roll back, delete; then offline', async (t) => {
  const { vm, disk } = await bootHolding(t);
  const qmp = vm.qmp;
  t.same(await snapshotNodes(qmp), ['disk0'], 'the writable qcow2 disk is what takes part');
  t.same(await listSnapshots(qmp, 'disk0'), []);

  let started = Date.now();
  const base = await saveSnapshot(qmp, { tag: 'base', method: 'job' });
  t.comment(
    `save of a 256 MiB guest (QMP job, TCG): ${Date.now() - started} ms, ${base.vmStateSize} bytes of VM state`,
  );
  t.equal(base.tag, 'base');
  t.ok(base.vmStateSize > 0, 'the RAM state went in');
  t.equal(await status(vm), 'running', 'the guest runs on after the save');

  const listed = await listSnapshots(qmp, 'disk0');
  t.equal(listed.length, 1);
  t.same(listed[0], base, 'ls shows what save returned');
  t.ok(listed[0]!.vmClock > 0 && listed[0]!.date.getTime() > Date.now() - 600_000);

  await t.rejects(
    saveSnapshot(qmp, { tag: 'base' }),
    { code: ErrorCode.VM_SNAPSHOT_EXISTS },
    'no silent overwrite',
  );
  const replaced = await saveSnapshot(qmp, { tag: 'base', replace: true });
  t.ok(replaced.vmClock > base.vmClock, 'replace saved a newer state');
  t.same(
    (await listSnapshots(qmp, 'disk0')).map((s) => s.tag),
    ['base'],
    'replace left one snapshot of that name',
  );

  const missing = await loadSnapshot(qmp, { tag: 'nope' }).catch((e: unknown) => e);
  t.equal(codeOf(missing), ErrorCode.VM_SNAPSHOT_NOT_FOUND);
  t.match((missing as Error & { hint: string }).hint, /snapshot ls/);
  t.equal(await status(vm), 'running', 'an unknown tag never reached QEMU (which would have paused the VM)');
  for (const tag of ['', '42', 'two words', 'tab\there', 'x'.repeat(129)]) {
    await t.rejects(
      saveSnapshot(qmp, { tag }),
      { code: ErrorCode.VM_SNAPSHOT_TAG_INVALID },
      JSON.stringify(tag),
    );
  }
  await t.rejects(saveSnapshot(qmp, { tag: 'x', nodes: ['disk9'] }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /no block node 'disk9'.*disk0/,
  });

  started = Date.now();
  const loaded = await loadSnapshot(qmp, { tag: 'base', method: 'job' });
  t.comment(`load of a 256 MiB guest (QMP job, TCG): ${Date.now() - started} ms`);
  t.equal(loaded.vmClock, replaced.vmClock);
  t.equal(await status(vm), 'running', 'a running guest keeps running after a load');
  await powerOffThenLoadBack(t, vm, 'base', 'job');

  // An internal snapshot of the disk alone, as qemu-img snapshot -c makes: no RAM state to load.
  await qmp.execute('blockdev-snapshot-internal-sync', { device: 'disk0', name: 'disk-only' });
  await t.rejects(loadSnapshot(qmp, { tag: 'disk-only' }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /disk-only/,
  });

  await deleteSnapshot(qmp, { tag: 'base', method: 'job' });
  await deleteSnapshot(qmp, { tag: 'disk-only' });
  t.same(await listSnapshots(qmp, 'disk0'), [], 'ls is empty after the deletes');
  await t.rejects(deleteSnapshot(qmp, { tag: 'base' }), { code: ErrorCode.VM_SNAPSHOT_NOT_FOUND });

  await saveSnapshot(qmp, { tag: 'kept-a' });
  await saveSnapshot(qmp, { tag: 'kept-b' });
  t.same(
    (await listSnapshotsOffline(disk)).map((s) => s.tag),
    ['kept-a', 'kept-b'],
    'qemu-img sees them while the VM runs',
  );
  const locked = await deleteSnapshotOffline(disk, 'kept-a').catch((e: unknown) => e);
  t.equal(codeOf(locked), ErrorCode.VM_SNAPSHOT);
  t.match((locked as Error & { hint: string }).hint, /running VM holds the disk/);

  await vm.stop({ timeout: 60_000 });
  const offline = await listSnapshotsOffline(disk);
  t.same(
    offline.map((s) => [s.tag, s.vmStateSize > 0]),
    [
      ['kept-a', true],
      ['kept-b', true],
    ],
  );
  await deleteSnapshotOffline(disk, 'kept-a');
  t.same(
    (await listSnapshotsOffline(disk)).map((s) => s.tag),
    ['kept-b'],
  );
  await t.rejects(deleteSnapshotOffline(disk, 'kept-a'), { code: ErrorCode.VM_SNAPSHOT_NOT_FOUND });
  await t.rejects(loadSnapshotOffline(disk, 'kept-b'), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /needs a running QEMU/,
  });
  t.equal((await loadSnapshotOffline(disk, 'kept-b', { diskOnly: true })).tag, 'kept-b');
  const { stdout } = await execa('qemu-img', ['check', '-q', '-f', 'qcow2', disk]);
  t.equal(stdout, '', 'the image is clean after the offline changes');
});

t.test('HMP savevm/loadvm/delvm: the same flow, quoting, and QEMU errors as text', async (t) => {
  const { vm } = await bootHolding(t);
  const qmp = vm.qmp;
  const hmp = { method: 'hmp' } as const;

  const started = Date.now();
  const base = await saveSnapshot(qmp, { tag: 'hmp-base', ...hmp });
  t.comment(`save of a 256 MiB guest (HMP savevm, TCG): ${Date.now() - started} ms`);
  t.ok(base.vmStateSize > 0);
  await t.rejects(saveSnapshot(qmp, { tag: 'hmp-base', ...hmp }), { code: ErrorCode.VM_SNAPSHOT_EXISTS });
  const replaced = await saveSnapshot(qmp, { tag: 'hmp-base', replace: true, ...hmp });
  t.ok(replaced.vmClock > base.vmClock, 'savevm replaced it');

  // HMP parses its arguments itself: quotes and backslashes must arrive as written.
  const odd = 'q"uo\\te;x';
  await saveSnapshot(qmp, { tag: odd, ...hmp });
  t.same(
    (await listSnapshots(qmp, 'disk0')).map((s) => s.tag),
    ['hmp-base', odd],
  );
  await deleteSnapshot(qmp, { tag: odd, ...hmp });

  await t.rejects(loadSnapshot(qmp, { tag: 'nope', ...hmp }), { code: ErrorCode.VM_SNAPSHOT_NOT_FOUND });
  await t.rejects(deleteSnapshot(qmp, { tag: 'nope', ...hmp }), { code: ErrorCode.VM_SNAPSHOT_NOT_FOUND });

  await loadSnapshot(qmp, { tag: 'hmp-base', ...hmp });
  t.equal(await status(vm), 'running');

  // savevm takes every writable disk; a writable raw node cannot hold a snapshot, and QEMU says so as text.
  const scratchDir = shortTempDir(t);
  const scratch = join(scratchDir, 'scratch.raw');
  await execa('truncate', ['-s', '1M', scratch]);
  // QEMU opens a hot-plugged file as the unprivileged user it dropped to (under root): let that user reach it.
  await chmod(scratchDir, 0o711);
  await chmod(scratch, 0o666);
  await qmp.execute('blockdev-add', {
    'node-name': 'scratch',
    driver: 'raw',
    file: { driver: 'file', filename: scratch },
  });
  const refused = await saveSnapshot(qmp, { tag: 'with-scratch', ...hmp }).catch((e: unknown) => e);
  t.equal(codeOf(refused), ErrorCode.VM_SNAPSHOT);
  t.match((refused as Error).message, /^saving snapshot 'with-scratch' failed: Device 'scratch' .*snapshots/);
  t.notMatch((refused as Error).message, /Error:/, "QEMU's prefix is dropped");
  t.equal(await status(vm), 'running');
  t.ok(
    (await saveSnapshot(qmp, { tag: 'with-scratch', method: 'job' })).vmStateSize > 0,
    'the job takes only the listed disks, so it works beside that node',
  );
  await qmp.execute('blockdev-del', { 'node-name': 'scratch' });

  await powerOffThenLoadBack(t, vm, 'hmp-base', 'hmp');
  await deleteSnapshot(qmp, { tag: 'hmp-base', ...hmp });
  t.same(
    (await listSnapshots(qmp, 'disk0')).map((s) => s.tag),
    ['with-scratch'],
  );
});
