import { readFile } from 'node:fs/promises';
import t from 'tap';
import { kernelImageOf, packageVersions, parseDpkgStatus } from '../../lib/image/dpkg-status.js';

const STATUS = `Package: linux-image-amd64
Status: install ok installed
Priority: optional
Version: 6.1.192-2
Depends: linux-image-6.1.0-56-amd64 (= 6.1.192-2)
Description: Linux for 64-bit PCs (meta-package)
 This package depends on the latest Linux kernel and modules for use on PCs.

Package: linux-image-6.1.0-56-amd64
Status: install ok installed
Version: 6.1.192-2
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Description: Linux 6.1 for 64-bit PCs (signed)

Package: linux-image-6.1.0-55-amd64
Status: deinstall ok config-files
Version: 6.1.180-1

Package: cloud-init
Status: install ok installed
Version: 22.4.2-1+deb12u4
Depends: fdisk | util-linux (<< 2.29.2-3~), isc-dhcp-client,
 netcat-openbsd, python3
`;

t.test('installed packages only, continuation lines joined', async (t) => {
  const installed = parseDpkgStatus(STATUS);
  t.same([...installed.keys()], ['linux-image-amd64', 'linux-image-6.1.0-56-amd64', 'cloud-init']);
  t.match(installed.get('cloud-init')?.depends, /isc-dhcp-client,\nnetcat-openbsd, python3$/);
});

t.test('the kernel a metapackage pulls in', async (t) => {
  const installed = parseDpkgStatus(STATUS);
  t.same(kernelImageOf(installed, 'linux-image-amd64'), {
    name: 'linux-image-6.1.0-56-amd64',
    version: '6.1.192-2',
    depends: 'kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool',
  });
  t.equal(kernelImageOf(installed, 'linux-image-arm64'), undefined, 'no such metapackage');
  const noKernel = parseDpkgStatus(STATUS.replace('Package: linux-image-6.1.0-56-amd64', 'Package: other'));
  t.equal(kernelImageOf(noKernel, 'linux-image-amd64'), undefined, 'metapackage without its kernel');
});

t.test('versions of wanted packages, the missing ones listed', async (t) => {
  const installed = parseDpkgStatus(STATUS);
  t.same(packageVersions(installed, ['cloud-init', 'openssh-server', 'linux-image-amd64']), {
    versions: { 'cloud-init': '22.4.2-1+deb12u4', 'linux-image-amd64': '6.1.192-2' },
    missing: ['openssh-server'],
  });
});

t.test("this host's own dpkg status, when it has one", async (t) => {
  const text = await readFile('/var/lib/dpkg/status', 'utf8').catch(() => undefined);
  if (text === undefined) {
    t.comment('no /var/lib/dpkg/status: not a Debian-like host');
    return;
  }
  const installed = parseDpkgStatus(text);
  t.ok(installed.size > 10, `${installed.size} packages`);
  t.match(installed.get('dpkg')?.version, /^\d/, 'dpkg knows itself');
});

t.test('garbage is no package', async (t) => {
  t.equal(parseDpkgStatus('').size, 0);
  t.equal(parseDpkgStatus('no colon here\n continuation\n\n: empty\n').size, 0);
});
