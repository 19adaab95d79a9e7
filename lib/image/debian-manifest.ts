// The manifest beside a built Debian image: what it holds and how to boot it; building it is pure, reading it checks it.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { IMAGE_FILES } from './debian-argv.js';
import {
  DEBIAN_IMAGE_ARCHES,
  DEBIAN_RELEASES,
  DEFAULT_USER,
  type DebianImageArch,
  type DebianRelease,
  imageName,
  kernelAppend,
} from './debian-recipe.js';

/** A built Debian cloud image: a qcow2 root disk plus the kernel and initrd to boot it directly. */
export interface DebianImage {
  /** Absolute path of the qcow2 root disk (ext4 on the whole disk, label `rootfs`). */
  image: string;
  kernel: string;
  initrd: string;
  /** Kernel command line, e.g. `root=LABEL=rootfs console=ttyS0`. */
  append: string;
  arch: DebianImageArch;
  release: DebianRelease;
  /** Installed versions: the kernel (meta and real package), cloud-init, openssh-server, qemu-guest-agent. */
  packages: Record<string, string>;
  /** Absolute path of manifest.json. */
  manifest: string;
}

export interface DebianImageManifest extends Omit<DebianImage, 'manifest'> {
  format: 1;
  /** e.g. `debian-12` */
  name: string;
  /** `uname -r` of the kernel, e.g. `6.1.0-56-amd64`. */
  kernelVersion: string;
  /** The user cloud-init creates and hands the seed's SSH keys to. */
  defaultUser: string;
  diskSizeMiB: number;
}

export interface ManifestInput {
  /** The image's final directory (absolute). */
  dir: string;
  arch: DebianImageArch;
  release: DebianRelease;
  kernelVersion: string;
  packages: Record<string, string>;
  diskSizeMiB: number;
}

/** The manifest of an image that will live in `dir`: absolute paths, so a consumer needs nothing else. */
export function debianManifest(input: ManifestInput): DebianImageManifest {
  return {
    format: 1,
    name: imageName(input.release),
    release: input.release,
    arch: input.arch,
    image: join(input.dir, IMAGE_FILES.image),
    kernel: join(input.dir, IMAGE_FILES.kernel),
    initrd: join(input.dir, IMAGE_FILES.initrd),
    append: kernelAppend(input.arch),
    kernelVersion: input.kernelVersion,
    defaultUser: DEFAULT_USER,
    diskSizeMiB: input.diskSizeMiB,
    packages: input.packages,
  };
}

export const manifestJson = (manifest: DebianImageManifest): string =>
  `${JSON.stringify(manifest, null, 2)}\n`;

function bad(path: string, what: string): QlaunchError {
  return new QlaunchError(ErrorCode.IMAGE_BUILD_INVALID, `${path} is not a Debian image manifest: ${what}`, {
    hint: 'rebuild the image',
  });
}

/** The image a manifest describes, after checking the fields a consumer relies on. */
export function parseDebianManifest(text: string, path: string): DebianImage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new QlaunchError(ErrorCode.IMAGE_BUILD_INVALID, `${path} is not valid JSON`, {
      hint: 'rebuild the image',
      cause,
    });
  }
  if (typeof data !== 'object' || data === null) throw bad(path, 'not an object');
  const m = data as Record<string, unknown>;
  if (m['format'] !== 1) throw bad(path, `unknown format ${JSON.stringify(m['format'])}`);
  for (const key of ['image', 'kernel', 'initrd', 'append'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') throw bad(path, `no ${key}`);
  }
  if (!(DEBIAN_IMAGE_ARCHES as readonly unknown[]).includes(m['arch'])) throw bad(path, 'unknown arch');
  if (typeof m['release'] !== 'string' || !Object.hasOwn(DEBIAN_RELEASES, m['release'])) {
    throw bad(path, 'unknown release');
  }
  const packages = m['packages'];
  if (
    typeof packages !== 'object' ||
    packages === null ||
    !Object.values(packages).every((v) => typeof v === 'string')
  ) {
    throw bad(path, 'packages is not a name → version map');
  }
  return {
    image: m['image'] as string,
    kernel: m['kernel'] as string,
    initrd: m['initrd'] as string,
    append: m['append'] as string,
    arch: m['arch'] as DebianImageArch,
    release: m['release'] as DebianRelease,
    packages: packages as Record<string, string>,
    manifest: path,
  };
}

export async function readDebianManifest(path: string): Promise<DebianImage> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `cannot read the image manifest ${path}`, {
      hint: 'build the image first',
      cause,
    });
  }
  return parseDebianManifest(text, path);
}
