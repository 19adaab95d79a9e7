import t from 'tap';
import {
  extractRootCommand,
  IMAGE_FILES,
  MERGED_USR_HOOKS,
  mkfsCommand,
  mmdebstrapCommand,
  qcow2Command,
  STAGING_FILES,
} from '../../lib/image/debian-argv.js';
import { MASKED_UNITS, planDebianBuild } from '../../lib/image/debian-recipe.js';

const plan = planDebianBuild({ arch: 'x86_64', extraPackages: ['htop'] });

t.test('root mode: mmdebstrap into a directory, inside a private mount namespace', async (t) => {
  const { file, args } = mmdebstrapCommand({ plan, mode: 'root' });
  t.equal(file, 'unshare');
  t.same(args.slice(0, 5), ['--mount', '--propagation', 'private', '--', 'mmdebstrap']);
  const opts = args.slice(5);
  for (const opt of ['--variant=minbase', '--mode=root', '--format=directory', '--architectures=amd64']) {
    t.ok(opts.includes(opt), opt);
  }
  t.ok(opts.includes(`--include=${plan.packages.join(',')}`));
  t.ok(opts.includes(`--hook-dir=${MERGED_USR_HOOKS}`));
  // Release, target, then the sources, last.
  t.same(opts.slice(-5), ['bookworm', STAGING_FILES.root, ...plan.sources]);
});

t.test(
  'hooks: files go in as root-owned tarballs; host keys go and root is locked, with no caller input',
  async (t) => {
    const { args } = mmdebstrapCommand({ plan, mode: 'root' });
    const hooks = (stage: string) =>
      args.filter((a) => a.startsWith(`--${stage}-hook=`)).map((a) => a.split('=').slice(1).join('='));
    t.same(hooks('setup'), [`tar-in ${STAGING_FILES.setupTar} /`]);
    const customize = hooks('customize');
    t.equal(customize[0], `tar-in ${STAGING_FILES.customizeTar} /`);
    t.ok(
      customize.some((h) => /^rm -f "\$1"\/etc\/ssh\/ssh_host_\*$/.test(h)),
      'removes host keys',
    );
    t.ok(
      customize.some((h) => /passwd .*--lock root$/.test(h)),
      'locks root',
    );
    t.ok(args.includes('--dpkgopt=force-confold'), 'the setup files win over conffiles, without a prompt');
    t.ok(
      customize.includes(
        'mv "$1"/etc/initramfs-tools/update-initramfs.conf.dpkg-dist "$1"/etc/initramfs-tools/update-initramfs.conf',
      ),
      "puts Debian's update-initramfs.conf back over the build-only one",
    );
    t.equal(
      customize.find((h) => h.includes('systemctl mask')),
      `chroot "$1" systemctl mask --quiet ${MASKED_UNITS.join(' ')}`,
      'masks the units a TCG boot does not need, offline in the root',
    );
    t.equal(
      customize.at(-1),
      'rm -f "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap "$1"/etc/apt/apt.conf.d/99mmdebstrap',
      'the build-only dpkg and apt options do not stay in the image',
    );
    t.notOk(
      args.some((a) => a.includes('htop') && a.includes('hook')),
      'package names never reach a hook',
    );
  },
);

t.test('unshare mode: mmdebstrap straight, to a tarball; arm64', async (t) => {
  const arm = planDebianBuild({ arch: 'aarch64' });
  const { file, args } = mmdebstrapCommand({ plan: arm, mode: 'unshare' });
  t.equal(file, 'mmdebstrap');
  t.ok(args.includes('--mode=unshare'));
  t.ok(args.includes('--format=tar'));
  t.ok(args.includes('--architectures=arm64'));
  t.ok(
    args.includes(
      '--include=linux-image-arm64,systemd-sysv,udev,cloud-init,openssh-server,netplan.io,systemd-resolved,dbus,python3-cffi-backend,qemu-guest-agent,sudo,iproute2,e2fsprogs',
    ),
  );
  t.equal(args.at(-4), STAGING_FILES.rootTar);
});

t.test('unpacking, filesystem and qcow2 steps', async (t) => {
  t.same(extractRootCommand(), {
    file: 'fakeroot',
    args: [
      '-s',
      'fakeroot.state',
      '--',
      'tar',
      '--extract',
      '--file',
      'root.tar',
      '--directory',
      'root',
      '--numeric-owner',
      '--same-owner',
      '--same-permissions',
    ],
  });
  t.same(mkfsCommand('root', 2048), {
    file: 'mkfs.ext4',
    args: ['-q', '-L', 'rootfs', '-d', 'root', 'disk.raw', '2048M'],
  });
  t.same(mkfsCommand('unshare', 3072), {
    file: 'fakeroot',
    args: [
      '-i',
      'fakeroot.state',
      '--',
      'mkfs.ext4',
      '-q',
      '-L',
      'rootfs',
      '-d',
      'root',
      'disk.raw',
      '3072M',
    ],
  });
  t.same(qcow2Command(), {
    file: 'qemu-img',
    args: ['convert', '-f', 'raw', '-O', 'qcow2', 'disk.raw', `out/${IMAGE_FILES.image}`],
  });
});
