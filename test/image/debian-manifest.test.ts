import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  debianManifest,
  manifestJson,
  parseDebianManifest,
  readDebianManifest,
} from '../../lib/image/debian-manifest.js';

const input = {
  dir: '/cache/debian-12-x86_64-abc',
  arch: 'x86_64' as const,
  release: 'bookworm' as const,
  kernelVersion: '6.1.0-56-amd64',
  packages: { 'linux-image-amd64': '6.1.192-2', 'cloud-init': '22.4.2-1+deb12u4' },
  diskSizeMiB: 2048,
};

t.test('the manifest names every part by absolute path, with the command line to boot it', async (t) => {
  t.same(debianManifest(input), {
    format: 1,
    name: 'debian-12',
    release: 'bookworm',
    arch: 'x86_64',
    image: '/cache/debian-12-x86_64-abc/disk.qcow2',
    kernel: '/cache/debian-12-x86_64-abc/vmlinuz',
    initrd: '/cache/debian-12-x86_64-abc/initrd.img',
    append: 'root=LABEL=rootfs console=ttyS0',
    kernelVersion: '6.1.0-56-amd64',
    defaultUser: 'debian',
    diskSizeMiB: 2048,
    packages: input.packages,
  });
  t.equal(debianManifest({ ...input, arch: 'aarch64' }).append, 'root=LABEL=rootfs console=ttyAMA0');
});

t.test('written and read back', async (t) => {
  const path = join(t.testdir(), 'manifest.json');
  const manifest = debianManifest(input);
  const text = manifestJson(manifest);
  t.ok(text.endsWith('}\n'));
  await writeFile(path, text);
  t.same(await readDebianManifest(path), {
    image: manifest.image,
    kernel: manifest.kernel,
    initrd: manifest.initrd,
    append: manifest.append,
    arch: 'x86_64',
    release: 'bookworm',
    packages: input.packages,
    manifest: path,
  });
});

t.test('what is not a manifest is refused', async (t) => {
  const good = debianManifest(input) as unknown as Record<string, unknown>;
  const cases: [string, RegExp][] = [
    ['{', /not valid JSON/],
    ['null', /not an object/],
    [JSON.stringify({ ...good, format: 2 }), /unknown format 2/],
    [JSON.stringify({ ...good, kernel: '' }), /no kernel/],
    [JSON.stringify({ ...good, arch: 'sparc64' }), /unknown arch/],
    [JSON.stringify({ ...good, release: 'sid' }), /unknown release/],
    [JSON.stringify({ ...good, packages: { a: 1 } }), /packages/],
  ];
  for (const [text, message] of cases) {
    t.throws(() => parseDebianManifest(text, '/x/manifest.json'), { code: 'IMAGE_BUILD_INVALID', message });
  }
  await t.rejects(readDebianManifest(join(t.testdir(), 'none.json')), { code: 'SPEC_FILE_MISSING' });
});
