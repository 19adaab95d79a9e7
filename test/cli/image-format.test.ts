import t from 'tap';
import {
  formatImageDetails,
  formatImageTable,
  imageSummary,
  shortChecksum,
} from '../../lib/cli/commands/image-format.js';
import type { ImageInfoWithChain } from '../../lib/image/qemu-img.js';
import type { StoredImage } from '../../lib/image/store.js';

const PULLED: StoredImage = {
  schema: 1,
  name: 'a-long-name',
  format: 'qcow2',
  disk: 'disk.qcow2',
  virtualSize: 2 * 1024 ** 3,
  size: 300 * 1024 ** 2,
  checksum: `sha512:${'f'.repeat(128)}`,
  origin: 'pull',
  source: 'https://example.org/x.qcow2',
  added: '2025-01-01T00:00:00.000Z',
  arch: 'x86_64',
  dir: '/d',
  path: '/d/disk.qcow2',
};

const BUILT: StoredImage = {
  ...PULLED,
  name: 'b',
  format: 'raw',
  disk: 'disk.raw',
  virtualSize: 1024 ** 2,
  size: 1024 ** 2,
  checksum: `sha256:${'0'.repeat(64)}`,
  origin: 'build',
  source: 'built',
  arch: undefined,
  kernel: 'vmlinuz',
  kernelPath: '/d/vmlinuz',
  append: 'console=ttyS0',
};

t.test('summaries and short checksums', async (t) => {
  t.equal(shortChecksum(`sha256:${'0123456789abcdef'.repeat(4)}`), 'sha256:0123456789ab…');
  t.equal(shortChecksum('odd'), 'odd');
  t.equal(imageSummary(PULLED), 'qcow2, 2.0 GiB virtual, 300.0 MiB on disk, x86_64');
  t.equal(imageSummary(BUILT), 'raw, 1.0 MiB virtual, 1.0 MiB on disk');
});

t.test('the ls table: padded columns, source last; an empty store says how to add one', async (t) => {
  t.match(formatImageTable([]), /^no images/);
  t.equal(
    formatImageTable([PULLED, BUILT]),
    [
      'NAME         FORMAT  VIRTUAL  SIZE       ARCH    CHECKSUM              SOURCE',
      'a-long-name  qcow2   2.0 GiB  300.0 MiB  x86_64  sha512:ffffffffffff…  https://example.org/x.qcow2',
      'b            raw     1.0 MiB  1.0 MiB    -       sha256:000000000000…  built',
      '',
    ].join('\n'),
  );
});

t.test('a damaged image is a row of its own, its error one line in PROBLEM', async (t) => {
  t.equal(
    formatImageTable([
      BUILT,
      { name: 'c', error: 'c/image.json: 2 problems\n  - name: missing\n  - size: bad' },
    ]),
    [
      'NAME  FORMAT  VIRTUAL  SIZE     ARCH  CHECKSUM              SOURCE  PROBLEM',
      'b     raw     1.0 MiB  1.0 MiB  -     sha256:000000000000…  built   -',
      'c     -       -        -        -     -                     -       damaged: c/image.json: 2 problems; - name: missing; - size: bad',
      '',
    ].join('\n'),
  );
});

t.test('inspect details: the record, what qemu-img sees, only the fields an image has', async (t) => {
  const info = (over: Partial<ImageInfoWithChain>): ImageInfoWithChain => ({
    filename: '/d/disk.qcow2',
    format: 'qcow2',
    virtualSize: 2 * 1024 ** 3,
    actualSize: 100 * 1024 ** 2,
    clusterSize: 65536,
    backingFilename: undefined,
    fullBackingFilename: undefined,
    backingFormat: undefined,
    dirty: false,
    encrypted: false,
    corrupt: false,
    backingChain: [],
    ...over,
  });
  const pulled = formatImageDetails(PULLED, info({}));
  t.match(pulled, /^name: {10}a-long-name\n/);
  t.match(pulled, /^virtual size: {2}2\.0 GiB \(2147483648 bytes\)$/m);
  t.match(pulled, /^file size: {5}300\.0 MiB, 100\.0 MiB allocated$/m);
  t.match(pulled, /^backing chain: none$/m);
  t.notMatch(pulled, /kernel:/);
  const built = formatImageDetails(
    BUILT,
    info({
      format: 'qcow2',
      actualSize: undefined,
      backingChain: [{ ...info({}), filename: '/b/base.raw', format: 'raw' }],
    }),
  );
  t.match(built, /^format: {8}qcow2 \(recorded raw\)$/m);
  t.match(built, /^file size: {5}1\.0 MiB, 1\.0 MiB allocated$/m);
  t.match(built, /^kernel: {8}\/d\/vmlinuz$/m);
  t.match(built, /^append: {8}console=ttyS0$/m);
  t.match(built, /^backing chain: \/b\/base\.raw \(raw\)$/m);
  t.notMatch(built, /^arch:/m);
});

t.test(
  'a stored disk the format inspector refuses: a PROBLEM column in ls, a problem field in inspect',
  async (t) => {
    const refused = {
      ...PULLED,
      name: 'c',
      problem: 'it is a vmdk image, which can make QEMU read other files',
    };
    t.equal(
      formatImageTable([refused, BUILT]),
      [
        'NAME  FORMAT  VIRTUAL  SIZE       ARCH    CHECKSUM              SOURCE                       PROBLEM',
        'c     qcow2   2.0 GiB  300.0 MiB  x86_64  sha512:ffffffffffff…  https://example.org/x.qcow2  it is a vmdk image, which can make QEMU read other files',
        'b     raw     1.0 MiB  1.0 MiB    -       sha256:000000000000…  built                        -',
        '',
      ].join('\n'),
    );
    const details = formatImageDetails(PULLED, undefined, 'it is a vmdk image');
    t.match(details, /^format: {8}qcow2$/m, 'the record stands in for qemu-img');
    t.match(details, /^virtual size: {2}2\.0 GiB \(2147483648 bytes\)$/m);
    t.match(details, /^file size: {5}300\.0 MiB$/m);
    t.notMatch(details, /backing chain/, 'qemu-img was not asked');
    t.match(details, /^problem: {7}it is a vmdk image; qlaunch image rm a-long-name removes it\n$/m);
  },
);

t.test('a warm image lists what it stands on, and inspect adds its record lines', async (t) => {
  const warm: StoredImage = {
    ...PULLED,
    name: 'w',
    origin: 'warm',
    source: 'debian-12-local',
    base: 'debian-12-local',
  };
  t.match(formatImageTable([warm]), /^w +qcow2 .* warm, on debian-12-local$/m);
  const details = formatImageDetails(warm, undefined, undefined, [['device state', '0.7 MiB']]);
  t.match(details, /^stands on: +debian-12-local$/m);
  t.match(details, /^device state: +0\.7 MiB$/m);
});
