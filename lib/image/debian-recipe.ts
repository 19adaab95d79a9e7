// What goes into a qlaunch Debian cloud image (releases, packages, files written into the root) and option checks: pure.

import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';

/** The architectures qlaunch builds Debian images for, across releases. */
export const DEBIAN_IMAGE_ARCHES = ['x86_64', 'aarch64', 'riscv64'] as const satisfies readonly Arch[];
export type DebianImageArch = (typeof DEBIAN_IMAGE_ARCHES)[number];

// Debian 12 has no riscv64 port; Debian 13 (trixie) is the first release with one.
export const DEBIAN_RELEASES = {
  bookworm: { version: '12', arches: ['x86_64', 'aarch64'] },
  trixie: { version: '13', arches: ['x86_64', 'aarch64', 'riscv64'] },
} as const satisfies Record<string, { version: string; arches: readonly DebianImageArch[] }>;
export type DebianRelease = keyof typeof DEBIAN_RELEASES;

/** The release whose image is called `name` (`debian-12` → bookworm), or undefined. */
export const releaseOfImage = (name: string): DebianRelease | undefined =>
  (Object.keys(DEBIAN_RELEASES) as DebianRelease[]).find((release) => imageName(release) === name);

/** The architectures `release` has a port for. */
export const releaseArches = (release: DebianRelease): readonly DebianImageArch[] =>
  DEBIAN_RELEASES[release].arches;

export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
export const DEFAULT_SECURITY_MIRROR = 'http://deb.debian.org/debian-security';
/** The root filesystem's label: the kernel command line and fstab find the root by it. */
export const ROOT_LABEL = 'rootfs';
/** The user Debian's cloud-init package creates and gives the seed's SSH keys. */
export const DEFAULT_USER = 'debian';
export const DEFAULT_DISK_SIZE_MIB = 2048;

/** On top of minbase: init, cloud-init and what it needs to set up network, SSH and the guest agent. */
export const BASE_PACKAGES: readonly string[] = [
  'systemd-sysv',
  'udev',
  'cloud-init',
  'openssh-server',
  'netplan.io',
  'systemd-resolved',
  'dbus',
  // cloud-init's crypto imports need it, and minbase does not pull it in.
  'python3-cffi-backend',
  'qemu-guest-agent',
  'sudo',
  'iproute2',
  'e2fsprogs',
];

/** Paravirtual devices and the root filesystem: all the initramfs needs to mount root on a QEMU guest. */
const INITRAMFS_MODULES: readonly string[] = [
  'virtio_pci',
  'virtio_blk',
  'virtio_scsi',
  'sd_mod',
  'virtio_net',
  'virtio_console',
  'virtio_rng',
  'ext4',
];
// The virt machines of aarch64 and riscv64 may put virtio devices on MMIO rather than PCI.
const EXTRA_INITRAMFS_MODULES: Readonly<Record<DebianImageArch, readonly string[]>> = {
  x86_64: [],
  aarch64: ['virtio_mmio'],
  riscv64: ['virtio_mmio'],
};

export const imageName = (release: DebianRelease): string => `debian-${DEBIAN_RELEASES[release].version}`;

export const kernelMetaPackage = (arch: DebianImageArch): string =>
  `linux-image-${ARCH_TABLE[arch].debianArch}`;

/** Every package to install: the kernel first, then the base set, then the caller's extras, each once. */
export function imagePackages(arch: DebianImageArch, extra: readonly string[] = []): string[] {
  return [...new Set([kernelMetaPackage(arch), ...BASE_PACKAGES, ...extra])];
}

/** The packages whose versions a build reports (and the test cache keys on). */
export const reportedPackages = (arch: DebianImageArch): string[] => [
  kernelMetaPackage(arch),
  'cloud-init',
  'openssh-server',
  'qemu-guest-agent',
];

/** Kernel command line for direct kernel boot of the image. */
export const kernelAppend = (arch: DebianImageArch): string =>
  `root=LABEL=${ROOT_LABEL} console=${ARCH_TABLE[arch].console}`;

/** apt sources: the release, its updates and its security suite. */
export function aptSources(release: DebianRelease, mirror: string, securityMirror: string): string[] {
  return [
    `deb ${mirror} ${release} main`,
    `deb ${mirror} ${release}-updates main`,
    `deb ${securityMirror} ${release}-security main`,
  ];
}

export interface RootFile {
  /** Path inside the image, absolute. */
  path: string;
  content: string;
  mode: number;
}

// Debian's module lists (cloud-init 22.4), less what does nothing in a qlaunch guest: tools the image does not carry
// (snap, byobu, ssh-import-id, rsyslog, console-setup), other clouds' agents (landscape, lxd, fan, puppet, chef,
// mcollective, salt, RMC, RightScale, EC2 metadata), GRUB (direct kernel boot), printing keys to the console (about
// a second under TCG, read by nothing) and the legacy semaphore migrator. User-data can list modules back.
const CLOUD_INIT_MODULES = [
  'seed_random',
  'bootcmd',
  'write-files',
  'growpart',
  'resizefs',
  'disk_setup',
  'mounts',
  'set_hostname',
  'update_hostname',
  'update_etc_hosts',
  'ca-certs',
  'users-groups',
  'ssh',
];
const CLOUD_CONFIG_MODULES = [
  'locale',
  'set-passwords',
  'apt-pipelining',
  'apt-configure',
  'ntp',
  'timezone',
  'runcmd',
];
const CLOUD_FINAL_MODULES = [
  'package-update-upgrade-install',
  'write-files-deferred',
  'scripts-vendor',
  'scripts-per-once',
  'scripts-per-boot',
  'scripts-per-instance',
  'scripts-user',
  'phone-home',
  'final-message',
  'power-state-change',
];

const yamlList = (items: readonly string[]) => `[${items.join(', ')}]`;

const CLOUD_CFG = `# Written by qlaunch's image builder.
# Only a NoCloud seed (or nothing): never wait on network metadata services that are not there.
datasource_list: [NoCloud, None]
# minbase has no locales package: generating the default en_US.UTF-8 would fail the locale module.
# /etc/default/locale already says C.UTF-8, so the module has nothing to run.
locale: C.UTF-8
# There is no /etc/hosts template in minbase; this keeps the guest's own name resolvable (sudo asks).
manage_etc_hosts: localhost
# A 3072-bit RSA host key takes seconds to generate under TCG, on the way to sshd; ed25519 and ECDSA do not.
ssh_genkeytypes: [ed25519, ecdsa]
# Booted by direct kernel boot: there is no GRUB to configure.
grub_dpkg:
  enabled: false
cloud_init_modules: ${yamlList(CLOUD_INIT_MODULES)}
cloud_config_modules: ${yamlList(CLOUD_CONFIG_MODULES)}
cloud_final_modules: ${yamlList(CLOUD_FINAL_MODULES)}
`;

/**
 * Units masked in the image: each costs a second or more of a TCG boot and serves nothing a QEMU guest uses
 * (e2scrub_reap cleans LVM snapshots; the others load modules or mount file systems for hardware and debugging
 * facilities a throwaway guest does not have or need: `mount -t debugfs none /sys/kernel/debug` still works).
 */
export const MASKED_UNITS: readonly string[] = [
  'e2scrub_reap.service',
  'systemd-binfmt.service',
  'modprobe@drm.service',
  'modprobe@efi_pstore.service',
  // loop and dm_mod load on their own when /dev/loop-control or /dev/mapper/control is first opened.
  'modprobe@loop.service',
  'modprobe@dm_mod.service',
  'dev-hugepages.mount',
  'sys-kernel-debug.mount',
  'sys-kernel-tracing.mount',
];

/** initramfs-tools' settings for update-initramfs (a conffile): `no` skips updates but not the kernel's create. */
export const UPDATE_INITRAMFS_CONF = '/etc/initramfs-tools/update-initramfs.conf';

/** Files in place before any package is configured, so the kernel's postinst builds the small initramfs once. */
export function setupFiles(arch: DebianImageArch): RootFile[] {
  const modules = [...INITRAMFS_MODULES, ...EXTRA_INITRAMFS_MODULES[arch]];
  return [
    {
      path: '/etc/initramfs-tools/conf.d/qlaunch.conf',
      // zstd (the default) is not installed in minbase: say gzip rather than get a warning and gzip anyway.
      content:
        '# Written by qlaunch: only the modules listed in ../modules, not MODULES=most.\nMODULES=list\nCOMPRESS=gzip\n',
      mode: 0o644,
    },
    {
      path: '/etc/initramfs-tools/modules',
      content: `# Written by qlaunch: what a QEMU guest needs to mount its root.\n${modules.join('\n')}\n`,
      mode: 0o644,
    },
    {
      // initramfs-tools' own postinst queues an update that would build the initramfs a second time after the
      // kernel's postinst made it (~35 s under qemu-user); a customize hook puts Debian's file back.
      path: UPDATE_INITRAMFS_CONF,
      content:
        '# Written by qlaunch for the build only: the kernel postinst builds the initramfs once.\nupdate_initramfs=no\n',
      mode: 0o644,
    },
    { path: '/etc/cloud/cloud.cfg.d/99_qlaunch.cfg', content: CLOUD_CFG, mode: 0o644 },
  ];
}

/** Files written after the packages are installed, replacing what packages or mmdebstrap left there. */
export function customizeFiles(): RootFile[] {
  return [
    {
      path: '/etc/fstab',
      content: `LABEL=${ROOT_LABEL} / ext4 rw,discard,errors=remount-ro 0 1\n`,
      mode: 0o644,
    },
    // mmdebstrap copies the build host's name in; cloud-init sets the guest's own from the seed.
    { path: '/etc/hostname', content: 'localhost\n', mode: 0o644 },
    // The locale cloud.cfg asks for, already set: cloud-init's locale module then runs no update-locale.
    { path: '/etc/default/locale', content: 'LANG=C.UTF-8\n', mode: 0o644 },
    {
      path: '/etc/hosts',
      content:
        '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n',
      mode: 0o644,
    },
  ];
}

/**
 * Disk size for a root of `contentBytes`: the request, or the default grown to fit.
 * ext4 needs room beyond the files (inode tables, journal): 15 % plus 192 MiB covers it with margin.
 */
export function diskSizeMiB(contentBytes: number, requested?: number): number {
  const needed = Math.ceil((contentBytes * 1.15) / 2 ** 20) + 192;
  if (requested !== undefined) {
    if (requested < needed) {
      throw new QlaunchError(
        ErrorCode.IMAGE_BUILD_INVALID,
        `disk size ${requested} MiB is too small for the image's ${Math.ceil(contentBytes / 2 ** 20)} MiB of files`,
        { hint: `ask for at least ${needed} MiB, or leave the size out` },
      );
    }
    return requested;
  }
  return Math.max(DEFAULT_DISK_SIZE_MIB, Math.ceil(needed / 256) * 256);
}

export interface DebianBuildRequest {
  release?: string | undefined;
  arch: string;
  diskSizeMiB?: number | undefined;
  mirror?: string | undefined;
  securityMirror?: string | undefined;
  extraPackages?: readonly string[] | undefined;
}

export interface DebianBuildPlan {
  release: DebianRelease;
  arch: DebianImageArch;
  diskSizeMiB: number | undefined;
  sources: string[];
  packages: string[];
}

// Debian policy 5.6.1: lower case letters, digits, + - . ; at least two characters, starting alphanumeric.
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const MIRROR_URL = /^(?:https?|file):\/\/[^\s]+$/;

function invalid(message: string, hint: string): QlaunchError {
  return new QlaunchError(ErrorCode.IMAGE_BUILD_INVALID, message, { hint });
}

function checkMirror(name: string, value: string): string {
  if (!MIRROR_URL.test(value)) {
    throw invalid(`${name} '${value}' is not an http(s):// or file:// URL`, `e.g. ${DEFAULT_MIRROR}`);
  }
  return value.replace(/\/+$/, '');
}

/** Checks a build request and fills in the defaults; every problem names the option and the bad value. */
export function planDebianBuild(request: DebianBuildRequest): DebianBuildPlan {
  const release = request.release ?? 'bookworm';
  if (!Object.hasOwn(DEBIAN_RELEASES, release)) {
    throw invalid(
      `Debian release '${release}' is not supported`,
      `use one of: ${Object.keys(DEBIAN_RELEASES).join(', ')}`,
    );
  }
  const arch = request.arch;
  const arches: readonly string[] = releaseArches(release as DebianRelease);
  if (!arches.includes(arch)) {
    const other = (Object.keys(DEBIAN_RELEASES) as DebianRelease[]).filter((r) =>
      (releaseArches(r) as readonly string[]).includes(arch),
    );
    const name = `Debian ${DEBIAN_RELEASES[release as DebianRelease].version} (${release})`;
    throw new QlaunchError(ErrorCode.SPEC_ARCH_UNSUPPORTED, `cannot build a ${name} image for '${arch}'`, {
      hint: other.length
        ? `${name} has no ${arch} port: build ${other.map((r) => imageName(r)).join(' or ')} for ${arch}, or use one of: ${arches.join(', ')}`
        : `use one of: ${arches.join(', ')}`,
    });
  }
  const size = request.diskSizeMiB;
  if (size !== undefined && (!Number.isInteger(size) || size < 256 || size > 2 ** 24)) {
    throw invalid(`diskSizeMiB ${size} is not a whole number of MiB between 256 and ${2 ** 24}`, 'e.g. 2048');
  }
  for (const name of request.extraPackages ?? []) {
    if (!PACKAGE_NAME.test(name)) {
      throw invalid(
        `extra package '${name}' is not a Debian package name`,
        'use lower-case names like htop or curl',
      );
    }
  }
  const mirror = checkMirror('mirror', request.mirror ?? DEFAULT_MIRROR);
  const securityMirror = checkMirror('securityMirror', request.securityMirror ?? DEFAULT_SECURITY_MIRROR);
  const debianRelease = release as DebianRelease;
  const debianArch = arch as DebianImageArch;
  return {
    release: debianRelease,
    arch: debianArch,
    diskSizeMiB: size,
    sources: aptSources(debianRelease, mirror, securityMirror),
    packages: imagePackages(debianArch, request.extraPackages),
  };
}
