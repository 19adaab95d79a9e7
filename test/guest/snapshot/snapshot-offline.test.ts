import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { ErrorCode } from '../../../lib/errors.js';
import {
  deleteSnapshotOffline,
  listSnapshotsOffline,
  loadSnapshotOffline,
} from '../../../lib/guest/snapshot/snapshot-offline.js';

/** A qcow2 with disk-only snapshots made by qemu-img itself (no VM needed), in a dir whose name has a comma. */
async function imageWith(t: Test, tags: string[]): Promise<string> {
  const path = join(t.testdir(), 'a,b.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path, '1M']);
  for (const tag of tags) await execa('qemu-img', ['snapshot', '-c', tag, path]);
  return path;
}

t.test('list and delete on a stopped disk; a digit tag made by others is never taken as an id', async (t) => {
  // qemu-img names the first snapshot id 1: a lookup of "1" by id would hit 'first'.
  const path = await imageWith(t, ['first', '2nd']);
  const listed = await listSnapshotsOffline(path);
  t.same(
    listed.map((s) => [s.tag, s.id, s.vmStateSize]),
    [
      ['first', '1', 0],
      ['2nd', '2', 0],
    ],
  );
  t.ok(listed.every((s) => s.date.getTime() > Date.now() - 600_000));
  await t.rejects(deleteSnapshotOffline(path, '1'), { code: ErrorCode.VM_SNAPSHOT_TAG_INVALID });
  await t.rejects(deleteSnapshotOffline(path, 'third'), {
    code: ErrorCode.VM_SNAPSHOT_NOT_FOUND,
    hint: /snapshot ls/,
  });
  await deleteSnapshotOffline(path, 'first');
  t.same(
    (await listSnapshotsOffline(path)).map((s) => s.tag),
    ['2nd'],
  );
});

t.test('load of a stopped VM: refused, or the disk alone reverted when asked', async (t) => {
  const path = await imageWith(t, []);
  const { stdout: before } = await execa('qemu-io', ['-c', 'read -P 0 0 4k', path]);
  t.match(before, /read 4096/);
  await execa('qemu-img', ['snapshot', '-c', 'zeroes', path]);
  await execa('qemu-io', ['-c', 'write -P 0xab 0 4k', path]);
  await t.rejects(loadSnapshotOffline(path, 'zeroes'), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /needs a running QEMU/,
    hint: /start the VM, then load/,
  });
  await t.rejects(loadSnapshotOffline(path, 'nope', { diskOnly: true }), {
    code: ErrorCode.VM_SNAPSHOT_NOT_FOUND,
  });
  const reverted = await loadSnapshotOffline(path, 'zeroes', { diskOnly: true });
  t.equal(reverted.tag, 'zeroes');
  const { stdout: after } = await execa('qemu-io', ['-c', 'read -P 0 0 4k', path]);
  t.match(after, /read 4096/, 'the write after the snapshot is gone');
});

t.test('files that are not qcow2 images are named in the error', async (t) => {
  const dir = t.testdir();
  const raw = join(dir, 'disk.raw');
  writeFileSync(raw, Buffer.alloc(65536));
  await t.rejects(listSnapshotsOffline(raw), { code: ErrorCode.VM_SNAPSHOT, message: /disk\.raw/ });
  await t.rejects(listSnapshotsOffline(join(dir, 'missing.qcow2')), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /missing\.qcow2.*No such file/,
  });
});

t.test('a relative path with a colon is a file, not a qemu-img protocol', async (t) => {
  const dir = t.testdir({ 'x:y': {} });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'x:y', 'a:b.qcow2'), '1M']);
  await execa('qemu-img', ['snapshot', '-c', 'one', join(dir, 'x:y', 'a:b.qcow2')]);
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  t.same(
    (await listSnapshotsOffline('x:y/a:b.qcow2')).map((s) => s.tag),
    ['one'],
  );
  await deleteSnapshotOffline('x:y/a:b.qcow2', 'one');
  t.same(await listSnapshotsOffline('x:y/a:b.qcow2'), []);
});
