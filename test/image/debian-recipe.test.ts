import t from 'tap';
import { parse } from 'yaml';
import {
  BASE_PACKAGES,
  customizeFiles,
  DEFAULT_DISK_SIZE_MIB,
  diskSizeMiB,
  imageName,
  imagePackages,
  kernelAppend,
  kernelMetaPackage,
  MASKED_UNITS,
  planDebianBuild,
  releaseArches,
  releaseOfImage,
  reportedPackages,
  setupFiles,
  UPDATE_INITRAMFS_CONF,
} from '../../lib/image/debian-recipe.js';

const MiB = 2 ** 20;

t.test('a plan with defaults: bookworm, its updates and security suites, kernel first', async (t) => {
  const plan = planDebianBuild({ arch: 'x86_64' });
  t.equal(plan.release, 'bookworm');
  t.equal(plan.arch, 'x86_64');
  t.equal(plan.diskSizeMiB, undefined);
  t.same(plan.sources, [
    'deb http://deb.debian.org/debian bookworm main',
    'deb http://deb.debian.org/debian bookworm-updates main',
    'deb http://deb.debian.org/debian-security bookworm-security main',
  ]);
  t.equal(plan.packages[0], 'linux-image-amd64');
  for (const pkg of ['cloud-init', 'openssh-server', 'qemu-guest-agent', 'netplan.io', 'systemd-resolved']) {
    t.ok(plan.packages.includes(pkg), pkg);
  }
});

t.test('a plan with every option', async (t) => {
  const plan = planDebianBuild({
    release: 'bookworm',
    arch: 'aarch64',
    diskSizeMiB: 4096,
    mirror: 'http://mirror.example/debian/',
    securityMirror: 'https://sec.example/debian-security',
    extraPackages: ['htop', 'cloud-init', 'g++'],
  });
  t.equal(plan.packages[0], 'linux-image-arm64');
  t.equal(plan.diskSizeMiB, 4096);
  t.equal(plan.sources[0], 'deb http://mirror.example/debian bookworm main', 'trailing slash dropped');
  t.equal(plan.sources[2], 'deb https://sec.example/debian-security bookworm-security main');
  t.equal(plan.packages.filter((p) => p === 'cloud-init').length, 1, 'no duplicates');
  t.same(plan.packages.slice(-2), ['htop', 'g++']);
});

t.test('bad options are refused, naming the option and value', async (t) => {
  const cases: [Parameters<typeof planDebianBuild>[0], string, RegExp][] = [
    [{ arch: 'x86_64', release: 'sid' }, 'IMAGE_BUILD_INVALID', /release 'sid'/],
    [
      { arch: 'sparc64', release: 'trixie' },
      'SPEC_ARCH_UNSUPPORTED',
      /Debian 13 \(trixie\) image for 'sparc64'/,
    ],
    [{ arch: 'x86_64', diskSizeMiB: 100 }, 'IMAGE_BUILD_INVALID', /diskSizeMiB 100/],
    [{ arch: 'x86_64', diskSizeMiB: 1024.5 }, 'IMAGE_BUILD_INVALID', /diskSizeMiB 1024.5/],
    [{ arch: 'x86_64', extraPackages: ['htop,curl'] }, 'IMAGE_BUILD_INVALID', /'htop,curl'/],
    [{ arch: 'x86_64', extraPackages: ['--evil'] }, 'IMAGE_BUILD_INVALID', /'--evil'/],
    [{ arch: 'x86_64', extraPackages: ['Htop'] }, 'IMAGE_BUILD_INVALID', /'Htop'/],
    [{ arch: 'x86_64', mirror: 'ftp://x/debian' }, 'IMAGE_BUILD_INVALID', /mirror 'ftp:/],
    [{ arch: 'x86_64', mirror: 'http://x/debian main contrib' }, 'IMAGE_BUILD_INVALID', /mirror/],
    [{ arch: 'x86_64', securityMirror: '' }, 'IMAGE_BUILD_INVALID', /securityMirror ''/],
  ];
  for (const [request, code, message] of cases) {
    t.throws(() => planDebianBuild(request), { code, message }, JSON.stringify(request));
  }
});

t.test(
  'riscv64 is built from Debian 13: Debian 12 has no port, and says which release has one',
  async (t) => {
    t.throws(() => planDebianBuild({ arch: 'riscv64' }), {
      code: 'SPEC_ARCH_UNSUPPORTED',
      message: "cannot build a Debian 12 (bookworm) image for 'riscv64'",
      hint: 'Debian 12 (bookworm) has no riscv64 port: build debian-13 for riscv64, or use one of: x86_64, aarch64',
    });
    const plan = planDebianBuild({ release: 'trixie', arch: 'riscv64' });
    t.same(plan.sources, [
      'deb http://deb.debian.org/debian trixie main',
      'deb http://deb.debian.org/debian trixie-updates main',
      'deb http://deb.debian.org/debian-security trixie-security main',
    ]);
    t.equal(plan.packages[0], 'linux-image-riscv64');
    t.equal(kernelAppend('riscv64'), 'root=LABEL=rootfs console=ttyS0');
    const modules =
      setupFiles('riscv64').find((f) => f.path === '/etc/initramfs-tools/modules')?.content ?? '';
    t.match(modules, /^virtio_mmio$/m, 'virt may put virtio on MMIO');
    t.match(modules, /^virtio_blk$/m);
    t.equal(imageName('trixie'), 'debian-13');
    t.equal(releaseOfImage('debian-13'), 'trixie');
    t.equal(releaseOfImage('debian-12'), 'bookworm');
    t.equal(releaseOfImage('debian-11'), undefined);
    t.same(releaseArches('bookworm'), ['x86_64', 'aarch64']);
    t.same(releaseArches('trixie'), ['x86_64', 'aarch64', 'riscv64']);
  },
);

t.test('names, packages, command line', async (t) => {
  t.equal(imageName('bookworm'), 'debian-12');
  t.equal(kernelMetaPackage('aarch64'), 'linux-image-arm64');
  t.same(reportedPackages('x86_64'), [
    'linux-image-amd64',
    'cloud-init',
    'openssh-server',
    'qemu-guest-agent',
  ]);
  t.equal(kernelAppend('x86_64'), 'root=LABEL=rootfs console=ttyS0');
  t.equal(kernelAppend('aarch64'), 'root=LABEL=rootfs console=ttyAMA0');
  t.same(imagePackages('x86_64'), ['linux-image-amd64', ...BASE_PACKAGES]);
});

t.test('setup files: a MODULES=list virtio initramfs, cloud-init on NoCloud only', async (t) => {
  const files = new Map(setupFiles('x86_64').map((f) => [f.path, f]));
  const conf = files.get('/etc/initramfs-tools/conf.d/qlaunch.conf')?.content ?? '';
  t.match(conf, /^MODULES=list$/m);
  const modules = (files.get('/etc/initramfs-tools/modules')?.content ?? '')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'));
  for (const module of ['virtio_pci', 'virtio_blk', 'virtio_net', 'virtio_console', 'virtio_rng', 'ext4']) {
    t.ok(modules.includes(module), module);
  }
  t.notOk(modules.includes('virtio_mmio'));
  t.ok(
    setupFiles('aarch64').some((f) => f.content.split('\n').includes('virtio_mmio')),
    'aarch64 adds virtio_mmio',
  );
  // Only the kernel's postinst builds the initramfs; the update initramfs-tools queues for later is skipped.
  t.match(files.get(UPDATE_INITRAMFS_CONF)?.content, /^update_initramfs=no$/m);
  const cloud = parse(files.get('/etc/cloud/cloud.cfg.d/99_qlaunch.cfg')?.content ?? '');
  t.same(cloud.datasource_list, ['NoCloud', 'None']);
  t.equal(cloud.locale, 'C.UTF-8');
  t.same(cloud.ssh_genkeytypes, ['ed25519', 'ecdsa']);
  t.same(cloud.grub_dpkg, { enabled: false });
  // What a qlaunch guest uses stays in cloud-init's stages; what does nothing here is gone.
  const stages = [...cloud.cloud_init_modules, ...cloud.cloud_config_modules, ...cloud.cloud_final_modules];
  for (const module of ['users-groups', 'ssh', 'bootcmd', 'write-files', 'mounts', 'growpart', 'runcmd']) {
    t.ok(stages.includes(module), `keeps ${module}`);
  }
  for (const module of [
    'scripts-user',
    'package-update-upgrade-install',
    'power-state-change',
    'final-message',
  ]) {
    t.ok(cloud.cloud_final_modules.includes(module), `keeps ${module} in the final stage`);
  }
  for (const module of [
    'keys-to-console',
    'ssh-authkey-fingerprints',
    'snap',
    'landscape',
    'rsyslog',
    'migrator',
  ]) {
    t.notOk(stages.includes(module), `drops ${module}`);
  }
  t.equal(new Set(stages).size, stages.length, 'each module once');
  for (const file of files.values()) t.equal(file.mode, 0o644, file.path);
});

t.test('customize files: root by label, a neutral hostname', async (t) => {
  const files = new Map(customizeFiles().map((f) => [f.path, f.content]));
  t.match(files.get('/etc/fstab'), /^LABEL=rootfs \/ ext4 \S+ 0 1\n$/);
  t.equal(files.get('/etc/hostname'), 'localhost\n');
  t.equal(files.get('/etc/default/locale'), 'LANG=C.UTF-8\n', 'the locale cloud.cfg asks for, already set');
  t.match(files.get('/etc/hosts'), /^127\.0\.0\.1\tlocalhost$/m);
});

t.test('masked units: unit names only, none that boot, login or the network need', async (t) => {
  for (const unit of MASKED_UNITS) t.match(unit, /^[a-z0-9_@.-]+\.(service|mount)$/, unit);
  for (const needed of [
    'systemd-networkd',
    'systemd-resolved',
    'ssh',
    'cloud',
    'qemu-guest-agent',
    'logind',
  ]) {
    t.notOk(
      MASKED_UNITS.some((unit) => unit.includes(needed)),
      `${needed} is not masked`,
    );
  }
});

t.test('disk size: the default unless the files need more; a too-small request is refused', async (t) => {
  t.equal(diskSizeMiB(750 * MiB), DEFAULT_DISK_SIZE_MIB);
  t.equal(diskSizeMiB(750 * MiB, 1500), 1500);
  const big = diskSizeMiB(3000 * MiB);
  t.ok(big >= 3000 * 1.15 + 192 && big % 256 === 0, `${big} fits with headroom, whole 256 MiB`);
  t.throws(() => diskSizeMiB(750 * MiB, 800), {
    code: 'IMAGE_BUILD_INVALID',
    message: /800 MiB is too small/,
  });
});
