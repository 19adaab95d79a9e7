import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { convertImage, createOverlay, qemuImgCheck, qemuImgInfo } from '../../lib/image/qemu-img.js';
import { makeQcow2, rawDisk, sha256Of } from './disks.js';

const MIB = 1024 * 1024;

t.test('info on real images: qcow2, raw, a backing chain; garbage is IMAGE_INVALID', async (t) => {
  const dir = t.testdir({ 'disk.raw': rawDisk(), 'bad.qcow2': 'not really' });
  const base = await makeQcow2(dir);
  const info = await qemuImgInfo(base, { format: 'qcow2' });
  t.match(info, { format: 'qcow2', virtualSize: 64 * MIB, backingFilename: undefined, corrupt: false });
  t.ok(info.actualSize! > 0);
  t.match(await qemuImgInfo(join(dir, 'disk.raw'), { format: 'raw' }), {
    format: 'raw',
    virtualSize: 2048 * 512,
  });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', join(dir, 'top.qcow2')]);
  const top = await qemuImgInfo(join(dir, 'top.qcow2'), { format: 'qcow2', backingChain: true });
  t.equal(top.backingFilename, base);
  t.same(
    top.backingChain.map((i) => [i.filename, i.format]),
    [[base, 'qcow2']],
  );
  t.same(
    (await qemuImgInfo(join(dir, 'top.qcow2'), { format: 'qcow2' })).backingChain,
    [],
    'no chain unless asked',
  );
  await t.rejects(qemuImgInfo(join(dir, 'bad.qcow2'), { format: 'qcow2' }), {
    code: 'IMAGE_INVALID',
    message: new RegExp(`^${join(dir, 'bad.qcow2')} cannot be read as a disk image: Could not open`),
  });
  await t.rejects(qemuImgInfo(join(dir, 'missing'), { format: 'raw' }), {
    code: 'IMAGE_INVALID',
    message: /No such file/,
  });
  await t.rejects(qemuImgInfo(base, { format: 'qcow2; rm -rf /' }), {
    code: 'IMAGE_INVALID',
    message: /not a disk image format name/,
  });
});

t.test('check: clean, unsupported for raw, corrupt for a truncated or overwritten qcow2', async (t) => {
  const dir = t.testdir({ 'disk.raw': rawDisk() });
  const base = await makeQcow2(dir);
  t.match(await qemuImgCheck(base, 'qcow2'), { status: 'clean', corruptions: 0 });
  t.match(await qemuImgCheck(join(dir, 'disk.raw'), 'raw'), { status: 'unsupported' });
  const truncated = await makeQcow2(dir, 'truncated.qcow2');
  await execa('truncate', ['-s', '100K', truncated]);
  const cut = await qemuImgCheck(truncated, 'qcow2');
  t.equal(cut.status, 'corrupt');
  t.ok(cut.corruptions > 0);
  const garbage = await makeQcow2(dir, 'garbage.qcow2');
  // Random bytes after a valid header: qemu-img info still opens it; only the check sees the damage.
  await execa('dd', ['if=/dev/urandom', `of=${garbage}`, 'bs=512', 'seek=1', 'count=600', 'conv=notrunc']);
  t.equal((await qemuImgInfo(garbage, { format: 'qcow2' })).format, 'qcow2');
  const wrecked = await qemuImgCheck(garbage, 'qcow2');
  t.match(wrecked.status, /^(corrupt|failed)$/);
  t.ok(wrecked.detail.split('\n').length <= 3, 'only the first lines of its error flood');
});

t.test(
  'an overlay: qcow2 on its base with the backing format, 0600; the base is never written',
  async (t) => {
    const dir = t.testdir();
    const base = await makeQcow2(dir);
    chmodSync(base, 0o444);
    const before = sha256Of(base);
    const mtime = statSync(base).mtimeMs;
    const overlay = join(dir, 'vm', 'disk.qcow2');
    await execa('mkdir', [join(dir, 'vm')]);
    await createOverlay(base, 'qcow2', overlay, { sizeMiB: 128 });
    const info = await qemuImgInfo(overlay, { format: 'qcow2', backingChain: true });
    t.match(info, { format: 'qcow2', virtualSize: 128 * MIB, backingFilename: base, backingFormat: 'qcow2' });
    t.equal(statSync(overlay).mode & 0o777, 0o600);
    const lazy = await execa('qemu-img', ['info', '--output=json', overlay]);
    t.equal(JSON.parse(lazy.stdout)['format-specific'].data['lazy-refcounts'], true);

    // The guest's writes: over the base's data, and beyond the base's end.
    await execa('qemu-io', [
      '-f',
      'qcow2',
      '-c',
      'write -P 0x5a 0 64k',
      '-c',
      'write -P 0x77 100M 64k',
      overlay,
    ]);
    const read = await execa('qemu-io', [
      '-f',
      'qcow2',
      '-c',
      'read -P 0x5a 0 64k',
      '-c',
      'read -P 0xa5 64k 64k',
      overlay,
    ]);
    t.notMatch(
      read.stdout,
      /Pattern verification failed/,
      'the overlay shows its own write over the base data',
    );
    t.equal(sha256Of(base), before, "the base's bytes are unchanged");
    t.equal(statSync(base).mtimeMs, mtime);
    t.equal(statSync(base).mode & 0o777, 0o444);
    t.same(readdirSync(join(dir, 'vm')), ['disk.qcow2'], 'no temp file left beside it');

    const same = join(dir, 'same.qcow2');
    await createOverlay(relative(process.cwd(), base), 'qcow2', same);
    t.equal(
      (await qemuImgInfo(same, { format: 'qcow2' })).backingFilename,
      base,
      'a relative base is recorded absolute',
    );
    t.equal((await qemuImgInfo(same, { format: 'qcow2' })).virtualSize, 64 * MIB, 'no size: the base size');
  },
);

t.test(
  'overlay refusals: smaller than the base, a bad size, an existing file, an unreadable base',
  async (t) => {
    const dir = t.testdir({ 'taken.qcow2': 'precious' });
    const base = await makeQcow2(dir);
    await t.rejects(createOverlay(base, 'qcow2', join(dir, 'o1'), { sizeMiB: 32 }), {
      code: 'IMAGE_OVERLAY_INVALID',
      message: `a 32 MiB disk is smaller than its base image ${base} (64 MiB)`,
      hint: "give at least 64 MiB, or no size to use the base's",
    });
    await t.rejects(createOverlay(base, 'qcow2', join(dir, 'o2'), { sizeMiB: 1.5 }), {
      code: 'IMAGE_OVERLAY_INVALID',
      message: /not a whole positive number/,
    });
    await t.rejects(createOverlay(base, 'qcow2', join(dir, 'taken.qcow2')), {
      code: 'IMAGE_OVERLAY_INVALID',
      message: `${join(dir, 'taken.qcow2')} already exists`,
    });
    await t.rejects(createOverlay(join(dir, 'nope.qcow2'), 'qcow2', join(dir, 'o3')), {
      code: 'SPEC_FILE_MISSING',
      message: `${join(dir, 'nope.qcow2')} is not a file`,
    });
    await t.rejects(createOverlay(base, 'qcow2 -o x', join(dir, 'o4')), { code: 'IMAGE_INVALID' });
    t.same(readdirSync(dir).sort(), ['base.qcow2', 'taken.qcow2']);
  },
);

t.test('convert writes a new image and never replaces one', async (t) => {
  const dir = t.testdir({ 'disk.raw': rawDisk() });
  const raw = join(dir, 'disk.raw');
  await convertImage(raw, join(dir, 'disk.qcow2'), { format: 'qcow2', sourceFormat: 'raw' });
  t.equal((await qemuImgInfo(join(dir, 'disk.qcow2'), { format: 'qcow2' })).format, 'qcow2');
  t.equal(statSync(join(dir, 'disk.qcow2')).mode & 0o777, 0o600);
  await convertImage(join(dir, 'disk.qcow2'), join(dir, 'back.raw'), {
    format: 'raw',
    sourceFormat: 'qcow2',
  });
  t.equal(sha256Of(join(dir, 'back.raw')), sha256Of(raw), 'a round trip keeps every byte');
  await t.rejects(convertImage(raw, join(dir, 'back.raw'), { format: 'qcow2', sourceFormat: 'raw' }), {
    code: 'IMAGE_TOOL_FAILED',
    message: `${join(dir, 'back.raw')} already exists`,
  });
  writeFileSync(join(dir, 'junk'), 'x');
  await t.rejects(
    convertImage(join(dir, 'junk'), join(dir, 'j.qcow2'), { format: 'qcow2', sourceFormat: 'qcow2' }),
    {
      code: 'IMAGE_TOOL_FAILED',
      message: /^converting .*junk to qcow2 failed/,
    },
  );
  t.notOk(existsSync(join(dir, 'j.qcow2')));
  t.same(readdirSync(dir).sort(), ['back.raw', 'disk.qcow2', 'disk.raw', 'junk']);
});

t.test('a missing qemu-img names the package', async (t) => {
  const { PATH } = process.env;
  t.teardown(() => {
    process.env['PATH'] = PATH;
  });
  process.env['PATH'] = '/nonexistent';
  await t.rejects(qemuImgInfo('/x', { format: 'raw' }), {
    code: 'HOST_TOOL_MISSING',
    hint: /apt-get install qemu-utils/,
  });
});

t.test('the format is always named: a VMDK descriptor read as raw is only its own bytes', async (t) => {
  const dir = t.testdir({ 'target.raw': rawDisk() });
  const descriptor = `# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\nRW 2048 FLAT "${join(dir, 'target.raw')}" 0\n`;
  writeFileSync(join(dir, 'flat.vmdk'), descriptor);
  const info = await qemuImgInfo(join(dir, 'flat.vmdk'), { format: 'raw' });
  t.equal(info.format, 'raw');
  t.equal(info.virtualSize, 512, 'its own bytes, rounded up to a sector: not the 1 MiB extent it names');
  const untyped = { backingChain: false } as unknown as { format: string };
  await t.rejects(qemuImgInfo(join(dir, 'flat.vmdk'), untyped), {
    code: 'IMAGE_INVALID',
    message: "'undefined' is not a disk image format name",
  });
  await t.rejects(convertImage(join(dir, 'flat.vmdk'), join(dir, 'out.raw'), untyped as never), {
    message: "'undefined' is not a disk image format name",
  });
  t.notOk(existsSync(join(dir, 'out.raw')), 'nothing converted by a probe');
});

t.test('an overlay only on a base the format inspector accepts, as the format it is', async (t) => {
  const dir = t.testdir({ 'disk.raw': rawDisk() });
  const base = await makeQcow2(dir);
  const vmdk = join(dir, 'base.vmdk');
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '16M']);
  await t.rejects(createOverlay(vmdk, 'vmdk', join(dir, 'o1')), {
    code: 'IMAGE_INVALID',
    message: `${vmdk} is not a usable disk image: it is a vmdk image, which can make QEMU read other files of this host`,
  });
  await t.rejects(createOverlay(base, 'raw', join(dir, 'o2')), {
    code: 'IMAGE_INVALID',
    message: `${base} is qcow2, not raw`,
  });
  await createOverlay(join(dir, 'disk.raw'), 'raw', join(dir, 'o3'));
  t.same(readdirSync(dir).sort(), ['base.qcow2', 'base.vmdk', 'disk.raw', 'o3']);
});

t.test('a relative path with a colon is a file, never a protocol (`x:y/…` is not protocol x)', async (t) => {
  const dir = t.testdir({ 'x:y,z': { 'disk.raw': rawDisk() } });
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const raw = 'x:y,z/disk.raw';
  t.equal((await qemuImgInfo(raw, { format: 'raw' })).virtualSize, 2048 * 512);
  t.equal((await qemuImgCheck(raw, 'raw')).status, 'unsupported');
  await convertImage(raw, 'x:y,z/a:b.qcow2', { format: 'qcow2', sourceFormat: 'raw' });
  await createOverlay('x:y,z/a:b.qcow2', 'qcow2', 'x:y,z/top:1.qcow2');
  t.equal(
    (await qemuImgInfo('x:y,z/top:1.qcow2', { format: 'qcow2' })).backingFilename,
    join(dir, 'x:y,z/a:b.qcow2'),
  );
});
