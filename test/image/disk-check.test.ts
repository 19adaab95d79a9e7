import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import {
  checkDiskImage,
  isPaddedText,
  looksLikeText,
  rawImageProblem,
  storedDiskProblem,
} from '../../lib/image/disk-check.js';
import { makeQcow2, rawDisk } from './disks.js';

const bytes = (...values: number[]) => Uint8Array.from(values);
const text = (s: string) => new TextEncoder().encode(s);

t.test('text: printable UTF-8 without NULs; disk starts are never text', async (t) => {
  t.ok(looksLikeText(text('#cloud-config\nhostname: x\r\n\tkey: \x1b[1mvalue\f')));
  t.ok(looksLikeText(text('größe: ünïcödé ✓')));
  t.ok(looksLikeText(text('ends in a cut character: ✓').subarray(0, -1)), 'a character cut at the end');
  t.notOk(looksLikeText(new Uint8Array(0)));
  t.notOk(looksLikeText(text('a\0b')), 'NUL');
  t.notOk(looksLikeText(text('bell\x07')), 'control characters');
  t.notOk(looksLikeText(bytes(0x41, 0xff, 0x41, 0x41, 0x41, 0x41)), 'invalid UTF-8 inside');
  t.notOk(looksLikeText(rawDisk(1)), 'an MBR sector');
  const mbrNoZeros = Buffer.alloc(512, 0x41);
  mbrNoZeros[510] = 0x55;
  mbrNoZeros[511] = 0xaa;
  t.notOk(
    looksLikeText(mbrNoZeros),
    'the 0x55 0xAA signature is not UTF-8, even with no zero byte before it',
  );
});

t.test('raw problems: empty, archives, text, partial sectors', async (t) => {
  t.match(rawImageProblem(new Uint8Array(0), 0), { problem: 'it is empty' });
  const xz = bytes(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2);
  t.match(rawImageProblem(xz, 4096), {
    problem: 'it is a xz archive, not a disk image',
    hint: 'unxz it first',
  });
  t.match(rawImageProblem(bytes(0x1f, 0x8b, 8, 0), 1000), { problem: /gzip archive/ });
  t.match(rawImageProblem(bytes(0x28, 0xb5, 0x2f, 0xfd), 512), { problem: /zstd archive/ });
  t.match(rawImageProblem(text('BZh91AY&SY'), 512), { problem: /bzip2 archive/ });
  t.match(rawImageProblem(bytes(0x50, 0x4b, 0x03, 0x04), 512), { problem: /zip archive/ });
  t.match(rawImageProblem(text('x'.repeat(512)), 512), { problem: 'it starts with text, not a disk' });
  t.match(rawImageProblem(rawDisk(1), 1000), {
    problem: 'its size (1000 bytes) is not a whole number of 512-byte sectors',
  });
  t.equal(rawImageProblem(rawDisk(1), 512), undefined);
  t.equal(rawImageProblem(new Uint8Array(512), 1024 * 1024), undefined, 'a blank disk');
});

t.test(
  'real files: qcow2 and raw pass; text, archives, corrupt qcow2 and overlays are refused',
  async (t) => {
    const dir = t.testdir({
      'disk.raw': rawDisk(),
      'notes.txt': 'just some notes\n'.repeat(64),
      'odd.raw': Buffer.concat([rawDisk(2), Buffer.from([1, 2, 3])]),
      'empty.img': '',
    });
    const qcow2 = await makeQcow2(dir);
    t.match(await checkDiskImage(qcow2), { format: 'qcow2', virtualSize: 64 * 1024 * 1024 });
    t.match(await checkDiskImage(join(dir, 'disk.raw')), { format: 'raw', virtualSize: 2048 * 512 });

    const refused = async (file: string, message: RegExp | string) =>
      t.rejects(checkDiskImage(file), { code: 'IMAGE_INVALID', message }, file);
    await refused(
      join(dir, 'notes.txt'),
      `${join(dir, 'notes.txt')} is not a usable disk image: it starts with text, not a disk`,
    );
    await refused(join(dir, 'odd.raw'), /is not a whole number of 512-byte sectors/);
    await refused(join(dir, 'empty.img'), /it is empty/);

    await execa('xz', ['--keep', join(dir, 'disk.raw')]);
    await refused(join(dir, 'disk.raw.xz'), /it is a xz archive/);

    const truncated = await makeQcow2(dir, 'truncated.qcow2');
    await execa('truncate', ['-s', '100K', truncated]);
    await refused(
      truncated,
      /truncated\.qcow2 is not a usable disk image: qemu-img check finds it damaged \(\d+ corruptions/,
    );
    const garbage = await makeQcow2(dir, 'garbage.qcow2');
    await execa('dd', ['if=/dev/urandom', `of=${garbage}`, 'bs=512', 'seek=1', 'count=600', 'conv=notrunc']);
    await refused(garbage, /garbage\.qcow2 is not a usable disk image: qemu-img check finds it damaged/);
    const header = await makeQcow2(dir, 'header.qcow2');
    writeFileSync(
      header,
      Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]), Buffer.alloc(504, 0xee)]),
    );
    await refused(
      header,
      /header\.qcow2 is not a usable disk image: its qcow2 header is damaged \(cluster bits/,
    );

    await execa('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-b',
      qcow2,
      '-F',
      'qcow2',
      join(dir, 'top.qcow2'),
    ]);
    await t.rejects(checkDiskImage(join(dir, 'top.qcow2')), {
      code: 'IMAGE_INVALID',
      message: `${join(dir, 'top.qcow2')} is not a usable disk image: it is an overlay on ${qcow2}`,
      hint: /qemu-img convert -f qcow2 -O qcow2 .*top\.qcow2 top-flat\.qcow2/,
    });
    await t.rejects(checkDiskImage(join(dir, 'nothing')), {
      code: 'SPEC_FILE_MISSING',
      message: /is not a file/,
    });
    await t.rejects(checkDiskImage(dir), { code: 'SPEC_FILE_MISSING' });
  },
);

t.test('a qcow2 with its corrupt bit set is refused', async (t) => {
  const dir = t.testdir();
  const qcow2 = await makeQcow2(dir);
  // The incompatible-features field (header offset 72, big endian); bit 1 is "corrupt".
  const { open } = await import('node:fs/promises');
  const file = await open(qcow2, 'r+');
  await file.write(Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]), 0, 8, 72);
  await file.close();
  await t.rejects(checkDiskImage(qcow2), { code: 'IMAGE_INVALID', message: /corrupt flag is set/ });
});

t.test('an encrypted qcow2 is refused', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'enc.qcow2');
  await execa('qemu-img', [
    'create',
    '-q',
    '--object',
    'secret,id=s0,data=topsecret',
    '-f',
    'qcow2',
    '-o',
    // Legacy AES: made at once, where LUKS first benchmarks its key derivation (slow, and flaky on a busy host).
    'encrypt.format=aes,encrypt.key-secret=s0',
    path,
    '16M',
  ]);
  await t.rejects(checkDiskImage(path), { code: 'IMAGE_INVALID', message: /it is encrypted/ });
});

t.test('text padded with zeros to a whole sector is text too: a web page saved as a disk', async (t) => {
  const page = Buffer.alloc(4096);
  page.write('<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n');
  t.ok(isPaddedText(page.subarray(0, 512)));
  t.match(rawImageProblem(page, page.length), { problem: 'it starts with text, not a disk' });
  const xfs = Buffer.alloc(512);
  xfs.write('XFSB');
  xfs.writeUInt32BE(4096, 4);
  t.notOk(isPaddedText(xfs), 'a filesystem magic followed by binary fields');
  const short = Buffer.alloc(512);
  short.write('abc');
  t.notOk(isPaddedText(short), 'a few bytes are no text');
  const mixed = Buffer.from(page.subarray(0, 512));
  mixed[400] = 7;
  t.notOk(isPaddedText(mixed), 'anything but zeros after the text');
  t.notOk(isPaddedText(rawDisk(1)));
  t.notOk(isPaddedText(new Uint8Array(512)), 'a blank sector');
});

t.test('a refused format never reaches qemu-img, and errors name the source given', async (t) => {
  const dir = t.testdir();
  const vmdk = join(dir, 'x.vmdk');
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '16M']);
  const { PATH } = process.env;
  t.teardown(() => {
    process.env['PATH'] = PATH;
  });
  // Without qemu-img on PATH, running it would be HOST_TOOL_MISSING: the refusal comes first.
  process.env['PATH'] = '/nonexistent';
  await t.rejects(checkDiskImage(vmdk, { source: 'https://example.org/x.vmdk' }), {
    code: 'IMAGE_INVALID',
    message:
      'https://example.org/x.vmdk is not a usable disk image: it is a vmdk image, which can make QEMU read other files of this host',
  });
});

t.test('storedDiskProblem: why a stored disk would be refused now, from its header alone', async (t) => {
  const dir = t.testdir({
    'disk.raw': rawDisk(),
    'page.raw': Buffer.concat([Buffer.from('<html>'), Buffer.alloc(506)]),
  });
  const qcow2 = await makeQcow2(dir);
  const vmdk = join(dir, 'x.vmdk');
  await execa('qemu-img', ['create', '-q', '-f', 'vmdk', vmdk, '16M']);
  t.equal(await storedDiskProblem(qcow2, 'qcow2'), undefined);
  t.equal(await storedDiskProblem(join(dir, 'disk.raw'), 'raw'), undefined);
  t.equal(await storedDiskProblem(qcow2, 'raw'), 'it is qcow2, but recorded as raw');
  t.equal(
    await storedDiskProblem(vmdk, 'vmdk'),
    'it is a vmdk image, which can make QEMU read other files of this host',
  );
  t.equal(await storedDiskProblem(join(dir, 'page.raw'), 'raw'), undefined, 'short text is not padded text');
  t.equal(await storedDiskProblem(join(dir, 'gone'), 'raw'), `${join(dir, 'gone')} is not a file`);
});
