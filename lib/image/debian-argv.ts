// Command lines of the Debian image build's steps (mmdebstrap, tar, mkfs.ext4, qemu-img) and its file names: pure.

import { ARCH_TABLE } from '../arch/table.js';
import type { DebianBuildPlan } from './debian-recipe.js';
import { MASKED_UNITS, ROOT_LABEL, UPDATE_INITRAMFS_CONF } from './debian-recipe.js';

/** `root`: mmdebstrap as real root into a directory; `unshare`: in a user namespace, to a tarball. */
export type BuildMode = 'root' | 'unshare';

export interface Command {
  file: string;
  args: string[];
}

/** Names inside the staging directory; relative, because the build's tools run with it as their cwd. */
export const STAGING_FILES = {
  root: 'root',
  rootTar: 'root.tar',
  setupTar: 'setup.tar',
  customizeTar: 'customize.tar',
  fakerootState: 'fakeroot.state',
  rawDisk: 'disk.raw',
  out: 'out',
} as const;

/** Names of what a finished image directory holds. */
export const IMAGE_FILES = {
  image: 'disk.qcow2',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
  manifest: 'manifest.json',
} as const;

export const MERGED_USR_HOOKS = '/usr/share/mmdebstrap/hooks/merged-usr';

// Constant shell snippets (mmdebstrap runs them with the root as $1); nothing from the caller goes in.
// Each instance must make its own host keys: cloud-init generates them on first boot.
const REMOVE_HOST_KEYS = 'rm -f "$1"/etc/ssh/ssh_host_*';
const LOCK_ROOT = 'chroot "$1" passwd --quiet --lock root';
// --force-confold kept the build-only file and put Debian's beside it as .dpkg-dist: Debian's goes back (as is).
const RESTORE_UPDATE_INITRAMFS_CONF = `mv "$1"${UPDATE_INITRAMFS_CONF}.dpkg-dist "$1"${UPDATE_INITRAMFS_CONF}`;
// systemctl works offline in a chroot: it writes the /dev/null links and runs nothing.
const MASK_UNITS = `chroot "$1" systemctl mask --quiet ${MASKED_UNITS.join(' ')}`;
// mmdebstrap leaves --dpkgopt/--aptopt in the root: unsafe io and keeping old conffiles are for the build only.
const REMOVE_BUILD_OPTIONS =
  'rm -f "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap "$1"/etc/apt/apt.conf.d/99mmdebstrap';

export interface MmdebstrapInput {
  plan: DebianBuildPlan;
  mode: BuildMode;
}

/**
 * mmdebstrap for the plan. In root mode it runs in a private mount namespace, so the /proc, /sys and /dev
 * mounts it makes inside the root can never outlive it (not even a SIGKILL), nor be seen by our cleanup.
 */
export function mmdebstrapCommand({ plan, mode }: MmdebstrapInput): Command {
  const args = [
    '--variant=minbase',
    `--mode=${mode}`,
    `--format=${mode === 'root' ? 'directory' : 'tar'}`,
    `--architectures=${ARCH_TABLE[plan.arch].debianArch}`,
    `--include=${plan.packages.join(',')}`,
    // The image is written once and then copied into ext4: dpkg's fsyncs only cost time.
    '--dpkgopt=force-unsafe-io',
    // Files the setup hook put in place before their package (update-initramfs.conf) win, without a prompt.
    '--dpkgopt=force-confold',
    '--aptopt=Acquire::Retries "3"',
    `--hook-dir=${MERGED_USR_HOOKS}`,
    `--setup-hook=tar-in ${STAGING_FILES.setupTar} /`,
    `--customize-hook=tar-in ${STAGING_FILES.customizeTar} /`,
    `--customize-hook=${REMOVE_HOST_KEYS}`,
    `--customize-hook=${LOCK_ROOT}`,
    `--customize-hook=${RESTORE_UPDATE_INITRAMFS_CONF}`,
    `--customize-hook=${MASK_UNITS}`,
    `--customize-hook=${REMOVE_BUILD_OPTIONS}`,
    plan.release,
    mode === 'root' ? STAGING_FILES.root : STAGING_FILES.rootTar,
    ...plan.sources,
  ];
  if (mode === 'unshare') return { file: 'mmdebstrap', args };
  return { file: 'unshare', args: ['--mount', '--propagation', 'private', '--', 'mmdebstrap', ...args] };
}

/** Unpacks the unshare-mode tarball as fake root, recording owners and device nodes in the fakeroot state. */
export function extractRootCommand(): Command {
  return {
    file: 'fakeroot',
    args: [
      '-s',
      STAGING_FILES.fakerootState,
      '--',
      'tar',
      '--extract',
      '--file',
      STAGING_FILES.rootTar,
      '--directory',
      STAGING_FILES.root,
      '--numeric-owner',
      '--same-owner',
      '--same-permissions',
    ],
  };
}

/** The ext4 root filesystem, filled from the root directory; under fakeroot in unshare mode so owners are right. */
export function mkfsCommand(mode: BuildMode, sizeMiB: number): Command {
  const mkfs = [
    'mkfs.ext4',
    '-q',
    '-L',
    ROOT_LABEL,
    '-d',
    STAGING_FILES.root,
    STAGING_FILES.rawDisk,
    `${sizeMiB}M`,
  ];
  if (mode === 'root') return { file: mkfs[0]!, args: mkfs.slice(1) };
  return { file: 'fakeroot', args: ['-i', STAGING_FILES.fakerootState, '--', ...mkfs] };
}

export function qcow2Command(): Command {
  return {
    file: 'qemu-img',
    args: [
      'convert',
      '-f',
      'raw',
      '-O',
      'qcow2',
      STAGING_FILES.rawDisk,
      `${STAGING_FILES.out}/${IMAGE_FILES.image}`,
    ],
  };
}
