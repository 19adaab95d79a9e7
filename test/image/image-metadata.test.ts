import t from 'tap';
import { type ImageMetadata, metadataJson, parseImageMetadata } from '../../lib/image/image-metadata.js';

const GOOD: ImageMetadata = {
  schema: 1,
  name: 'debian-12-local',
  format: 'qcow2',
  disk: 'disk.qcow2',
  virtualSize: 2147483648,
  size: 768212992,
  checksum: `sha256:${'a'.repeat(64)}`,
  origin: 'build',
  source: 'qlaunch image build debian-12',
  added: '2025-01-01T00:00:00.000Z',
  arch: 'x86_64',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  append: 'root=LABEL=rootfs console=ttyS0',
  defaultUser: 'debian',
  packages: { 'cloud-init': '22.4.2-1' },
};

t.test('a record round-trips through its JSON', async (t) => {
  t.same(parseImageMetadata(metadataJson(GOOD), 'image.json'), GOOD);
  const { arch, kernel, initrd, append, defaultUser, packages, ...minimal } = GOOD;
  t.same(parseImageMetadata(JSON.stringify(minimal), 'image.json'), minimal);
  t.ok(metadataJson(GOOD).endsWith('}\n'));
});

t.test('damaged records are IMAGE_STORE errors naming the file and the field', async (t) => {
  const bad = (change: Record<string, unknown>, what: RegExp) =>
    t.throws(() => parseImageMetadata(JSON.stringify({ ...GOOD, ...change }), '/s/x/image.json'), {
      code: 'IMAGE_STORE',
      message: what,
      hint: /qlaunch image rm/,
    });
  t.throws(() => parseImageMetadata('{', '/s/x/image.json'), {
    message: '/s/x/image.json is not a qlaunch image record: not JSON',
  });
  t.throws(() => parseImageMetadata('[]', 'f'), { message: /not an object/ });
  t.throws(() => parseImageMetadata('null', 'f'), { message: /not an object/ });
  bad({ schema: 2 }, /unknown schema 2/);
  bad({ name: 'Bad Name' }, /no valid name/);
  bad({ format: 'qcow2 x' }, /no valid format/);
  bad({ disk: '../etc/passwd' }, /no valid disk file name/);
  bad({ disk: '.hidden' }, /no valid disk file name/);
  bad({ size: -1 }, /no valid size/);
  bad({ virtualSize: 1.5 }, /no valid virtualSize/);
  bad({ checksum: 'md5:abc' }, /no valid checksum/);
  bad({ origin: 'stolen' }, /no valid origin/);
  bad({ source: 5 }, /no source/);
  bad({ added: null }, /no added/);
  bad({ arch: 'mips' }, /unknown arch/);
  bad({ kernel: 'boot/vmlinuz' }, /no valid kernel file name/);
  bad({ initrd: 3 }, /no valid initrd file name/);
  bad({ append: 1 }, /append is not a string/);
  bad({ packages: { a: 1 } }, /packages is not a name → version map/);
  bad({ packages: null }, /packages is not/);
  bad({ base: '../up' }, /no valid base image name/);
  bad({ base: 7 }, /no valid base image name/);
});
