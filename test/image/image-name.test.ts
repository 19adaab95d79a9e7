import t from 'tap';
import {
  checkImageName,
  imageNameForArch,
  imageNameFrom,
  imageNameFromUrl,
  urlFileName,
} from '../../lib/image/image-name.js';

t.test('valid names pass; others say the rule', async (t) => {
  for (const name of ['debian-12', 'a', '0', 'ubuntu-24.04_min', 'x'.repeat(63)])
    t.equal(checkImageName(name), name);
  for (const name of ['', 'Debian', '-x', '.x', '_x', 'a/b', 'a b', 'x'.repeat(64), '..']) {
    t.throws(() => checkImageName(name), {
      code: 'IMAGE_NAME_INVALID',
      message: `'${name}' is not a valid image name`,
    });
  }
  t.throws(() => checkImageName('a\nb\u0007'), { message: '"a\\nb\\u0007" is not a valid image name' });
});

t.test('names from URLs and files drop disk and compression extensions', async (t) => {
  t.equal(
    imageNameFromUrl(
      'https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2',
    ),
    'debian-12-genericcloud-amd64',
  );
  t.equal(imageNameFromUrl('https://x/noble-server-cloudimg-amd64.img?x=1#y'), 'noble-server-cloudimg-amd64');
  t.equal(imageNameFromUrl('https://x/Fedora%20Cloud%2041.x86_64.raw.xz'), 'fedora-cloud-41.x86_64');
  t.equal(urlFileName('https://x/a%ZZb.img'), 'a%ZZb.img', 'a bad escape is kept as it is');
  t.equal(imageNameFrom('/some/dir/My Disk.QCOW2'), 'my-disk');
  t.equal(imageNameFrom('__odd__.vmdk.gz'), 'odd__');
  t.equal(imageNameFrom(`${'a'.repeat(70)}.img`), 'a'.repeat(63));
  t.equal(imageNameFrom('disk-.img'), 'disk');
  t.throws(() => imageNameFromUrl('https://x/'), {
    code: 'IMAGE_NAME_INVALID',
    hint: 'give one with --name',
  });
  t.throws(() => imageNameFrom('___.img'), { code: 'IMAGE_NAME_INVALID' });
});

t.test('per-arch names: bare for x86_64, suffixed otherwise', async (t) => {
  t.equal(imageNameForArch('debian-12-local', 'x86_64'), 'debian-12-local');
  t.equal(imageNameForArch('debian-12-local', 'aarch64'), 'debian-12-local-aarch64');
  t.equal(imageNameForArch('ubuntu-24.04', 'riscv64'), 'ubuntu-24.04-riscv64');
});
