import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { importImage } from '../../lib/image/import.js';
import { openImageStore } from '../../lib/image/store.js';
import { makeQcow2, rawDisk, sha256Of } from './disks.js';

process.env['QLAUNCH_HOME'] = t.testdir();

t.test(
  'a real qcow2 and a raw disk import: checked, copied byte for byte, recorded, read-only',
  async (t) => {
    const dir = t.testdir({ 'My Disk.raw': rawDisk() });
    const store = openImageStore({ env: { QLAUNCH_HOME: join(dir, 'home') } });
    const qcow2 = await makeQcow2(dir, 'jammy.qcow2');
    const progress: { copied: number; total: number }[] = [];
    const image = await importImage(store, {
      file: qcow2,
      arch: 'aarch64',
      onProgress: (p) => progress.push(p),
    });
    t.match(image, {
      name: 'jammy',
      format: 'qcow2',
      disk: 'disk.qcow2',
      virtualSize: 64 * 1024 * 1024,
      size: statSync(qcow2).size,
      checksum: `sha256:${sha256Of(qcow2)}`,
      origin: 'import',
      source: qcow2,
      arch: 'aarch64',
    });
    t.equal(sha256Of(image.path), sha256Of(qcow2), 'the stored disk is the same bytes');
    t.equal(statSync(image.path).mode & 0o777, 0o444);
    t.same(progress.at(-1), { copied: statSync(qcow2).size, total: statSync(qcow2).size });

    const raw = await importImage(store, { file: join(dir, 'My Disk.raw') });
    t.match(raw, { name: 'my-disk', format: 'raw', disk: 'disk.raw', virtualSize: 2048 * 512 });
    t.ok(statSync(raw.path).blocks * 512 < 2048 * 512, 'the zero sectors stayed holes');
    t.same(readdirSync(store.dir).sort(), ['jammy', 'my-disk']);
    const again = importImage(store, { file: qcow2 });
    await t.rejects(again, { code: 'IMAGE_EXISTS' });
  },
);

t.test('text, corrupt and truncated files are refused before anything reaches the store', async (t) => {
  const dir = t.testdir({ 'readme.txt': 'this is not a disk\n'.repeat(100) });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(dir, 'home') } });
  await t.rejects(importImage(store, { file: join(dir, 'readme.txt') }), {
    code: 'IMAGE_INVALID',
    message: `${join(dir, 'readme.txt')} is not a usable disk image: it starts with text, not a disk`,
  });
  const truncated = await makeQcow2(dir, 'cut.qcow2');
  await execa('truncate', ['-s', '100K', truncated]);
  await t.rejects(importImage(store, { file: truncated, name: 'cut' }), {
    code: 'IMAGE_INVALID',
    message: /cut\.qcow2 is not a usable disk image: qemu-img check finds it damaged/,
  });
  const garbage = await makeQcow2(dir, 'garbage.qcow2');
  await execa('dd', ['if=/dev/urandom', `of=${garbage}`, 'bs=512', 'seek=1', 'count=600', 'conv=notrunc']);
  await t.rejects(importImage(store, { file: garbage }), {
    code: 'IMAGE_INVALID',
    message: /garbage\.qcow2/,
  });
  const badL1 = await makeQcow2(dir, 'bad-l1.qcow2');
  const header = readFileSync(badL1);
  header.writeBigUInt64BE(0x30001n, 40);
  writeFileSync(badL1, header);
  const unreadable = await importImage(store, { file: badL1 }).catch((e: unknown) => e);
  t.match(unreadable, {
    code: 'IMAGE_INVALID',
    message: `${badL1} is not a usable disk image: qemu-img cannot open it: Active L1 table offset invalid`,
  });
  t.notMatch((unreadable as Error).message, /\.tmp-|import\.part/);
  await t.rejects(importImage(store, { file: join(dir, 'missing.qcow2') }), { code: 'SPEC_FILE_MISSING' });
  await t.rejects(importImage(store, { file: join(dir, 'readme.txt'), name: 'No' }), {
    code: 'IMAGE_NAME_INVALID',
  });
  t.notOk(existsSync(store.dir), 'refused before the store was even made');
});

t.test('an aborted import leaves nothing', async (t) => {
  const dir = t.testdir({ 'big.raw': rawDisk(64 * 1024) });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(dir, 'home') } });
  const controller = new AbortController();
  await t.rejects(
    importImage(store, {
      file: join(dir, 'big.raw'),
      signal: controller.signal,
      onProgress: ({ copied }) => copied > 1024 * 1024 && controller.abort(),
    }),
    { code: 'IMAGE_ABORTED', message: `import of ${join(dir, 'big.raw')} aborted` },
  );
  t.same(readdirSync(store.dir), []);
});

t.test('a file that changes while it is copied is refused', async (t) => {
  const dir = t.testdir({ 'grow.raw': rawDisk(8 * 1024) });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(dir, 'home') } });
  let grown = false;
  await t.rejects(
    importImage(store, {
      file: join(dir, 'grow.raw'),
      onProgress: () => {
        if (grown) return;
        grown = true;
        writeFileSync(join(dir, 'grow.raw'), rawDisk(16 * 1024));
      },
    }),
    { code: 'IMAGE_INVALID', message: /changed while it was being copied/ },
  );
  t.same(readdirSync(store.dir), []);
});

t.test(
  'a file named .qcow2 that is not qcow2 is refused unless declared raw; a declared format must match',
  async (t) => {
    const dir = t.testdir();
    const store = openImageStore({ env: { QLAUNCH_HOME: join(dir, 'home') } });
    const fake = join(dir, 'x.qcow2');
    writeFileSync(fake, randomBytes(10 * 1024 * 1024));
    await t.rejects(importImage(store, { file: fake }), {
      code: 'IMAGE_INVALID',
      message: `${fake} is named like a qcow2 image, but its contents are raw`,
      hint: /import it with --format raw/,
    });
    const stored = join(dir, 'home', 'images');
    t.same(existsSync(stored) ? readdirSync(stored) : [], [], 'nothing stored');
    const raw = await importImage(store, { file: fake, format: 'raw' });
    t.equal(raw.format, 'raw', 'declared raw: stored as raw');

    const qcow2 = await makeQcow2(dir, 'real.qcow2');
    await t.rejects(importImage(store, { file: qcow2, name: 'declared-raw', format: 'raw' }), {
      code: 'IMAGE_INVALID',
      message: `${qcow2} is declared raw, but its contents are qcow2`,
    });
  },
);

t.test('a disk that fills up during import: the filesystem, what was needed and what is free', async (t) => {
  // Not in the test's fixture directory: tap removes that before teardowns run, and a mount point cannot go.
  const dir = mkdtempSync(join(tmpdir(), 'qlt-nospace-'));
  const mount = join(dir, 'small');
  mkdirSync(mount);
  const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount], { reject: false });
  t.teardown(async () => {
    if (mounted.exitCode === 0) await execa('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
  });
  if (mounted.exitCode !== 0) {
    t.plan(0, `cannot mount a small tmpfs here (${mounted.stderr.trim()}): needs root`);
    return;
  }
  const store = openImageStore({ env: { QLAUNCH_HOME: join(mount, 'home') } });
  const big = join(dir, 'big.raw');
  writeFileSync(big, randomBytes(4 * 1024 * 1024));
  const error = await importImage(store, { file: big }).then(
    () => undefined,
    (e: { code: string; message: string; hint: string }) => e,
  );
  t.equal(error?.code, 'IMAGE_STORE');
  t.match(
    error?.message,
    `import of ${big} ran out of space on the filesystem at ${mount}: it needs 4.0 MiB`,
  );
  t.match(error?.message, /, [\d.]+ (KiB|MiB|B) is free$/);
  t.match(error?.hint, `free space on ${mount}`);
  t.same(readdirSync(join(mount, 'home', 'images')), [], 'nothing partial kept');
});
