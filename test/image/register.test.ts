import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { IMAGE_FILES } from '../../lib/image/debian-argv.js';
import { debianManifest, manifestJson, readDebianManifest } from '../../lib/image/debian-manifest.js';
import { registerDebianImage, registerImage } from '../../lib/image/register.js';
import { openImageStore } from '../../lib/image/store.js';
import { makeQcow2, sha256Of } from './disks.js';

process.env['QLAUNCH_HOME'] = t.testdir();

/** A directory shaped like buildDebianImage's output, with a small real qcow2 for the disk. */
async function builtImage(dir: string) {
  await makeQcow2(dir, IMAGE_FILES.image);
  writeFileSync(join(dir, IMAGE_FILES.kernel), 'kernel bytes');
  writeFileSync(join(dir, IMAGE_FILES.initrd), 'initrd bytes');
  const manifest = debianManifest({
    dir,
    arch: 'x86_64',
    release: 'bookworm',
    kernelVersion: '6.1.0-1-amd64',
    packages: { 'cloud-init': '22.4.2-1' },
    diskSizeMiB: 64,
  });
  writeFileSync(join(dir, IMAGE_FILES.manifest), manifestJson(manifest));
  return readDebianManifest(join(dir, IMAGE_FILES.manifest));
}

t.test('a built Debian image is stored with its kernel, initrd, command line and packages', async (t) => {
  const root = t.testdir({ out: {} });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(root, 'home') } });
  const built = await builtImage(join(root, 'out'));
  const diskHash = sha256Of(built.image);
  const image = await registerDebianImage(store, built, { name: 'debian-12-local' });
  t.match(image, {
    name: 'debian-12-local',
    format: 'qcow2',
    disk: 'disk.qcow2',
    checksum: `sha256:${diskHash}`,
    origin: 'build',
    source: 'qlaunch image build debian-12 (Debian bookworm packages)',
    arch: 'x86_64',
    kernel: 'vmlinuz',
    initrd: 'initrd.img',
    append: 'root=LABEL=rootfs console=ttyS0',
    defaultUser: 'debian',
    packages: { 'cloud-init': '22.4.2-1' },
    kernelPath: join(image.dir, 'vmlinuz'),
    initrdPath: join(image.dir, 'initrd.img'),
  });
  t.equal(readFileSync(image.kernelPath!, 'utf8'), 'kernel bytes');
  t.equal(readFileSync(image.initrdPath!, 'utf8'), 'initrd bytes');
  for (const file of readdirSync(image.dir))
    t.equal(statSync(join(image.dir, file)).mode & 0o777, 0o444, file);
  t.ok(existsSync(built.image), 'copied: the build output is still there');
});

t.test('move mode renames the files in; missing parts are refused before anything moves', async (t) => {
  const root = t.testdir({ out: {} });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(root, 'home') } });
  const built = await builtImage(join(root, 'out'));
  const diskHash = sha256Of(built.image);
  await t.rejects(
    registerImage(store, {
      name: 'x',
      files: { disk: built.image, kernel: join(root, 'no-kernel') },
      metadata: { source: 's' },
      move: true,
    }),
    { code: 'SPEC_FILE_MISSING', message: /no-kernel is not a file/ },
  );
  t.ok(existsSync(built.image), 'nothing moved');
  const image = await registerImage(store, {
    name: 'moved',
    files: { disk: built.image, kernel: built.kernel },
    metadata: { source: 'elsewhere', origin: 'import', arch: 'aarch64' },
    move: true,
  });
  t.match(image, {
    origin: 'import',
    arch: 'aarch64',
    checksum: `sha256:${diskHash}`,
    kernel: 'vmlinuz',
    initrd: undefined,
  });
  t.equal(image.size, statSync(image.path).size);
  t.notOk(existsSync(built.image));
  t.notOk(existsSync(built.kernel));
  t.same(readdirSync(join(root, 'out')).sort(), ['initrd.img', 'manifest.json']);
});

t.test('a disk that is not an image is refused', async (t) => {
  const root = t.testdir({ 'disk.qcow2': 'text, not a disk' });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(root, 'home') } });
  await t.rejects(
    registerImage(store, {
      name: 'bad',
      files: { disk: join(root, 'disk.qcow2') },
      metadata: { source: 's' },
    }),
    { code: 'IMAGE_INVALID' },
  );
});
