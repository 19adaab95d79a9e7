// Where `qlaunch seed` may write its image without destroying anything: a new file, or a seed image such as it or
// cloud-localds writes. Anything else needs --force; a directory, device, FIFO or socket, the image store, an
// instance's directory and a file an instance uses (base image, kernel, initrd, firmware) are never replaced.

import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { specialKind, writeFileAtomic } from '../cidata/seed.js';
import { otherVolume, recogniseSeedVolume } from '../cidata/seed-volume.js';
import type { SparseImage } from '../cidata/sparse-image.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { archiveKind, isPaddedText, looksLikeText } from '../image/disk-check.js';
import { type ImageBytes, inspectImage } from '../image/format-inspect.js';
import { readImageBytes } from '../image/image-file.js';
import { imageStoreDir } from '../image/store-location.js';
import { type InstanceConfig, readInstanceConfig } from './config.js';
import { INSTANCE_FILES, INSTANCE_NAME, instancesRoot } from './layout.js';

export interface SeedOutputOptions {
  /** Replace a regular file that is not a seed image (never one of the files above). */
  force?: boolean | undefined;
  /** Where instances live (default `<qlaunch home>/instances`). */
  instancesRoot?: string | undefined;
  /** The image store (default `<qlaunch home>/images`). */
  storeDir?: string | undefined;
}

const refused = (path: string, why: string, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.SEED_OUTPUT_REFUSED, `Cannot write seed image ${path}: ${why}`, { hint });

const ELSEWHERE = 'write the seed to another path';

/** `dir` with its symlinks resolved, as far as it exists (a store not made yet is still where it will be). */
const realDir = (dir: string): Promise<string> => realpath(dir).catch(() => dir);

const isInside = (path: string, dir: string): boolean =>
  path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);

/** The files an instance reads besides its own directory: its base image and boot files. */
const usedFiles = (config: InstanceConfig): [string, string][] => [
  ...(config.base ? [['its base image', config.base.path] as [string, string]] : []),
  ...(config.kernel ? [['its kernel', config.kernel] as [string, string]] : []),
  ...(config.initrd ? [['its initrd', config.initrd] as [string, string]] : []),
  ...(typeof config.firmware === 'object'
    ? [['its firmware', config.firmware.path] as [string, string]]
    : []),
];

/** Which instance (and how) uses the file with this device and inode, if any. */
async function instanceUsing(
  file: { dev: number; ino: number },
  root: string,
): Promise<{ name: string; as: string } | undefined> {
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => INSTANCE_NAME.test(n));
  for (const name of names.sort()) {
    const config = await readInstanceConfig(join(root, name, INSTANCE_FILES.config)).catch(() => undefined);
    for (const [as, path] of config ? usedFiles(config) : []) {
      const used = await stat(path).catch(() => undefined);
      if (used && used.dev === file.dev && used.ino === file.ino) return { name, as };
    }
  }
  return undefined;
}

/** What a regular file that is not a seed image seems to be, as "a qcow2 image", "a text file", …. */
export function describeFile(bytes: ImageBytes): string {
  const { head, size } = bytes;
  const volume = otherVolume(head);
  if (volume === 'iso9660') return 'an ISO 9660 image without the cidata label';
  if (volume === 'vfat') return 'a FAT filesystem image without the CIDATA label';
  const verdict = inspectImage(bytes);
  if (!verdict.ok || verdict.format !== 'raw') return `a ${verdict.format} image`;
  const archive = archiveKind(head);
  if (archive) return `a ${archive} archive`;
  const sector = head.subarray(0, 512);
  if (looksLikeText(sector) || isPaddedText(sector)) return 'a text file';
  const bootSignature = head[510] === 0x55 && head[511] === 0xaa;
  const blank = sector.every((byte) => byte === 0);
  if (size % 512 === 0 && (bootSignature || blank)) return 'a raw disk image';
  return 'binary data';
}

/**
 * Checks that `path` may receive a seed image and returns the real path to write (a symlink is written through,
 * so it stays a link). Refusals name what the file is and are SEED_OUTPUT_REFUSED errors.
 */
export async function checkSeedOutput(path: string, options: SeedOutputOptions = {}): Promise<string> {
  if (path.endsWith('/') || basename(path) === '.' || basename(path) === '..') {
    throw refused(
      path,
      'the path ends with / (or . or ..): it names a directory, not a seed image file',
      `give a file path such as ${join(path, 'cidata.iso')}`,
    );
  }
  // The kernel's reading of the path: the parent's symlinks and .. resolved as it would.
  let parent: string;
  try {
    parent = await realpath(dirname(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new QlaunchError(
      ErrorCode.SEED_WRITE,
      `Cannot write seed image ${path}: ${dirname(path)} ${code === 'ENOENT' ? 'does not exist' : `cannot be used (${code})`}`,
      {
        hint: code === 'ENOENT' ? `create the directory ${dirname(path)} first` : 'fix the path',
        cause: error,
      },
    );
  }
  let target = join(parent, basename(path));
  let found = await lstat(target).catch(() => undefined);
  if (found?.isSymbolicLink()) {
    const linked = await realpath(target).catch(() => undefined);
    if (linked === undefined) {
      // /dev/stdout and /proc/self/fd/N lead to pipes and sockets that have no path.
      const through = await stat(target).catch(() => undefined);
      if (through) {
        throw refused(
          path,
          `it leads to ${specialKind(through)}, not a file`,
          `${ELSEWHERE}: qlaunch seed writes regular files`,
        );
      }
      throw refused(path, 'it is a symlink to a file that does not exist', `${ELSEWHERE}, or fix the link`);
    }
    target = linked;
    found = await lstat(target);
  }
  if (found?.isDirectory()) {
    throw refused(path, 'it is a directory', `give a file path such as ${join(path, 'cidata.iso')}`);
  }
  if (found && !found.isFile()) {
    throw refused(
      path,
      `it is ${specialKind(found)}, not a file`,
      `${ELSEWHERE}: qlaunch seed writes regular files`,
    );
  }

  const store = await realDir(options.storeDir ?? imageStoreDir());
  if (isInside(target, store)) {
    throw refused(
      path,
      `it is inside the image store (${store})`,
      `${ELSEWHERE}; stored images are the read-only bases of instances`,
    );
  }
  const root = await realDir(options.instancesRoot ?? instancesRoot());
  if (isInside(target, root)) {
    const name = relative(root, target).split(sep)[0];
    const where =
      target === join(root, name ?? '') ? 'the instances directory' : `instance ${name}'s directory`;
    throw refused(
      path,
      `it is inside ${where} (${root})`,
      `${ELSEWHERE}; qlaunch keeps an instance's files itself`,
    );
  }
  if (!found) return target;
  const user = await instanceUsing(found, root);
  if (user) {
    throw refused(
      path,
      `it is used by instance ${user.name} (${user.as}); replacing it would break the instance`,
      `${ELSEWHERE}, or remove the instance first (qlaunch rm ${user.name})`,
    );
  }
  // An empty file holds nothing to lose (mktemp makes one).
  if (found.size === 0) return target;
  const bytes = await readImageBytes(target);
  if (recogniseSeedVolume(bytes.head) || options.force) return target;
  throw refused(
    path,
    `it is ${describeFile(bytes)}, not a seed image`,
    `qlaunch seed replaces only a seed image (ISO 9660 labelled cidata, or FAT labelled CIDATA); ${ELSEWHERE}, or pass --force to replace this file`,
  );
}

/** Checks `path` (see checkSeedOutput) and writes `image` there atomically; returns the path written. */
export async function writeSeedOutput(
  path: string,
  image: Uint8Array | SparseImage,
  options: SeedOutputOptions = {},
): Promise<string> {
  const target = await checkSeedOutput(path, options);
  // As cloud-localds: not fsynced (a seed is cheap to write again); the rename keeps readers from a partial file.
  await writeFileAtomic(target, image, { durable: false });
  return target;
}
