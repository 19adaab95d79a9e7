import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { HEAD_BYTES } from '../../lib/image/format-inspect.js';
import { inspectImageFile, readImageBytes, requireOpenableImage } from '../../lib/image/image-file.js';
import { rawDisk } from './disks.js';

t.test('only regular files are read: a FIFO, a device, a directory are refused unopened', async (t) => {
  t.setTimeout(10_000);
  const dir = t.testdir({ 'disk.raw': rawDisk(), sub: {} });
  await execa('mkfifo', [join(dir, 'fifo')]);
  symlinkSync(join(dir, 'fifo'), join(dir, 'to-fifo'));
  symlinkSync(join(dir, 'disk.raw'), join(dir, 'to-disk'));
  const notAFile = (path: string, kind: string) =>
    t.rejects(
      readImageBytes(path),
      { code: 'SPEC_FILE_MISSING', message: `${path} is not a file (${kind})` },
      kind,
    );
  await notAFile(join(dir, 'fifo'), 'a FIFO');
  await notAFile(join(dir, 'to-fifo'), 'a FIFO');
  await notAFile('/dev/zero', 'a device');
  await notAFile(join(dir, 'sub'), 'a directory');
  await t.rejects(readImageBytes(join(dir, 'missing')), {
    code: 'SPEC_FILE_MISSING',
    message: `${join(dir, 'missing')} is not a file`,
  });
  t.equal((await readImageBytes(join(dir, 'to-disk'))).size, 2048 * 512, 'a link to a disk is read');
});

t.test('the head, the last sector and the size; a small file whole', async (t) => {
  const big = rawDisk(4096);
  big.write('END!', big.length - 512);
  const dir = t.testdir({ 'big.raw': big, 'small.img': 'tiny' });
  const bytes = await readImageBytes(join(dir, 'big.raw'));
  t.equal(bytes.size, big.length);
  t.equal(bytes.head.length, HEAD_BYTES);
  t.same(Buffer.from(bytes.head), big.subarray(0, HEAD_BYTES));
  t.equal(Buffer.from(bytes.tail).subarray(0, 4).toString(), 'END!');
  t.equal(bytes.tail.length, 512);
  const small = await readImageBytes(join(dir, 'small.img'));
  t.same(
    [Buffer.from(small.head).toString(), Buffer.from(small.tail).toString(), small.size],
    ['tiny', 'tiny', 4],
  );
});

t.test('real qcow2 headers from qemu-img: version 2, version 3, 2 MiB clusters', async (t) => {
  const dir = t.testdir();
  const make = async (name: string, options: string) => {
    const path = join(dir, name);
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', options, path, '64M']);
    return path;
  };
  const v2 = await make('v2.qcow2', 'compat=0.10');
  const v3 = await make('v3.qcow2', 'compat=1.1,lazy_refcounts=on,compression_type=zstd');
  const big = await make('big.qcow2', 'cluster_size=2M');
  for (const path of [v2, v3, big]) {
    t.match(await inspectImageFile(path), { verdict: { ok: true, format: 'qcow2' } }, path);
  }
  const { bytes } = await inspectImageFile(big);
  t.equal(bytes.head.length, Math.min(bytes.size, 2 * 1024 * 1024), 'a 2 MiB cluster is read whole');
});

t.test(
  'a refused image names the fix: convert it (a local path or a URL), recopy it, or decrypt it',
  async (t) => {
    const dir = t.testdir({ 'disk.raw': rawDisk() });
    const vmdk = join(dir, 'appliance.vmdk');
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '16M']);
    t.same(await requireOpenableImage(join(dir, 'disk.raw')).then((r) => r.format), 'raw');
    await t.rejects(requireOpenableImage(vmdk), {
      code: 'IMAGE_INVALID',
      message: `${vmdk} is not a usable disk image: it is a vmdk image, which can make QEMU read other files of this host`,
      hint: `if you trust it, convert it to a self-contained qcow2 and use that: qemu-img convert -f vmdk -O qcow2 ${vmdk} appliance-flat.qcow2 (qemu-img info -f vmdk ${vmdk} first shows which other files it reads)`,
    });
    // A path a shell would split or run something from is quoted in the command the hint gives.
    const odd = join(dir, "my $(id) 'v'.vmdk");
    await execa('qemu-img', ['create', '-q', '-f', 'vmdk', odd, '16M']);
    const quoted = `'${odd.replaceAll("'", "'\\''")}'`;
    await t.rejects(requireOpenableImage(odd), {
      code: 'IMAGE_INVALID',
      hint: `if you trust it, convert it to a self-contained qcow2 and use that: qemu-img convert -f vmdk -O qcow2 ${quoted} 'my $(id) '\\''v'\\''-flat.qcow2' (qemu-img info -f vmdk ${quoted} first shows which other files it reads)`,
    });
    await t.rejects(requireOpenableImage(vmdk, 'https://example.org/dl/appliance.vmdk?x=1'), {
      message: /^https:\/\/example\.org\/dl\/appliance\.vmdk\?x=1 is not a usable disk image/,
      hint: /^download it, and if you trust it, .*qemu-img convert -f vmdk -O qcow2 appliance\.vmdk appliance-flat\.qcow2/,
    });
    const damaged = join(dir, 'damaged.qcow2');
    writeFileSync(damaged, Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]));
    await t.rejects(requireOpenableImage(damaged), {
      message: /its qcow2 header is damaged/,
      hint: 'download or copy it again: the file is truncated or overwritten',
    });
    const luks = Buffer.alloc(4096);
    luks.set([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
    writeFileSync(join(dir, 'vol.luks'), luks);
    await t.rejects(requireOpenableImage(join(dir, 'vol.luks')), {
      code: 'IMAGE_INVALID',
      hint: 'store an unencrypted image',
    });
  },
);
