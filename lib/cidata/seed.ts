// NoCloud seed images: the cloud-init files on an ISO 9660 or VFAT volume, built in memory and written atomically.

import { randomBytes } from 'node:crypto';
import { closeSync, fsync, ftruncateSync, lstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { buildSparseFat } from './fat.js';
import { buildIso9660 } from './iso9660.js';
import type { SeedData, SeedFile } from './seed-tree.js';
import { denseImage, type SparseImage } from './sparse-image.js';

export type SeedFilesystem = 'iso9660' | 'vfat';

/** The files cloud-init's NoCloud datasource reads; meta-data and user-data must exist (they may be empty). */
export interface NoCloudFiles {
  'meta-data': SeedData;
  'user-data': SeedData;
  'network-config'?: SeedData;
  'vendor-data'?: SeedData;
}

export interface NoCloudSeed {
  files: NoCloudFiles;
  /** Default 'iso9660', what cloud-localds writes. */
  filesystem?: SeedFilesystem;
  /** Default 'cidata': kept as is on ISO 9660, upper-cased ('CIDATA') on VFAT; cloud-init accepts both. */
  label?: string;
  /** Default SOURCE_DATE_EPOCH, else now. */
  date?: Date;
}

const NOCLOUD_NAMES = ['meta-data', 'user-data', 'network-config', 'vendor-data'] as const;
const REQUIRED = new Set<string>(['meta-data', 'user-data']);

const seedFiles = (files: NoCloudFiles): SeedFile[] => {
  for (const name of Object.keys(files)) {
    if (!(NOCLOUD_NAMES as readonly string[]).includes(name)) {
      throw new QlaunchError(ErrorCode.SEED_INVALID, `Unknown NoCloud seed file ${JSON.stringify(name)}`, {
        hint: `NoCloud reads only ${NOCLOUD_NAMES.join(', ')}.`,
      });
    }
  }
  return NOCLOUD_NAMES.flatMap((name) => {
    const data = files[name];
    if (data === undefined) {
      if (!REQUIRED.has(name)) return [];
      throw new QlaunchError(ErrorCode.SEED_INVALID, `NoCloud seed is missing ${name}`, {
        hint: `cloud-init needs ${name} in the seed; pass an empty string if there is nothing to say.`,
      });
    }
    return [{ path: name, data }];
  });
};

/** Builds the seed image in memory as its used bytes and full size (see SparseImage); nothing touches the disk. */
export const buildSparseSeedImage = (seed: NoCloudSeed): SparseImage => {
  const files = seedFiles(seed.files);
  const filesystem = seed.filesystem ?? 'iso9660';
  const options = {
    ...(seed.label === undefined ? {} : { label: seed.label }),
    ...(seed.date === undefined ? {} : { date: seed.date }),
  };
  if (filesystem === 'iso9660') {
    const head = buildIso9660(files, options);
    return { head, size: head.length };
  }
  if (filesystem === 'vfat') return buildSparseFat(files, options);
  throw new QlaunchError(ErrorCode.SEED_INVALID, `Unknown seed filesystem ${JSON.stringify(filesystem)}`, {
    hint: "Use 'iso9660' or 'vfat'.",
  });
};

/** Builds the whole seed image in memory, zeros included; nothing touches the disk. */
export const buildSeedImage = (seed: NoCloudSeed): Uint8Array => denseImage(buildSparseSeedImage(seed));

/** The fix for a failed write, by errno code. */
export const writeHint = (path: string, code: unknown): string => {
  switch (code) {
    case 'EISDIR':
      return `${path} is a directory; give a file path such as ${join(path, 'cidata.iso')}.`;
    case 'ENOENT':
      return `Create the directory ${dirname(path)} first.`;
    case 'ENOTDIR':
      return `A parent of ${path} is not a directory; fix the path.`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `Choose a writable directory, or fix the permissions of ${dirname(path)}.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Free some disk space and try again.';
    default:
      return 'Check the output path and try again.';
  }
};

/** What a file that is not regular, a link or a directory is, as "a FIFO", "a character device", …. */
export const specialKind = (s: {
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string =>
  s.isFIFO()
    ? 'a FIFO'
    : s.isSocket()
      ? 'a socket'
      : s.isCharacterDevice()
        ? 'a character device'
        : s.isBlockDevice()
          ? 'a block device'
          : 'not a regular file';

export interface WriteOptions {
  /**
   * Also fsync the file and its directory, so the seed survives a host crash (default true). Throwaway runs and
   * `qlaunch seed` (like cloud-localds) skip it: the rename alone already keeps readers from seeing a partial file.
   */
  durable?: boolean | undefined;
  /** What the file is, for the error message (default "seed image"). */
  what?: string | undefined;
}

const fsyncFd = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));

/** Runs `fn`, undefined if it throws: for checks and clean-ups whose own failure changes nothing. */
const quietly = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {
    return undefined;
  }
};

const isSparse = (data: Uint8Array | SparseImage): data is SparseImage => !(data instanceof Uint8Array);

/**
 * Writes `data` to `path` with mode 0600 (seeds carry SSH keys and passwords): a temporary file in the
 * same directory, then rename, so readers see the old file or the whole new one, never a part. A sparse
 * image's zero tail is made by extending the file (a hole), not written.
 */
export const writeFileAtomic = async (
  path: string,
  data: Uint8Array | SparseImage,
  options: WriteOptions = {},
): Promise<void> => {
  const durable = options.durable ?? true;
  const what = options.what ?? 'seed image';
  // resolve() would drop the slash and write a file named after the directory.
  if (path.endsWith('/')) {
    throw new QlaunchError(ErrorCode.SEED_WRITE, `Cannot write ${what} ${path}: the path ends with /`, {
      hint: `give a file path such as ${join(path, 'cidata.iso')}`,
    });
  }
  const target = resolve(path);
  // Synchronous calls: these files are small, and each async call's thread-pool round trip costs more than the
  // system call itself (most of the write on a loaded host). Only fsync, which waits on the disk, stays async.
  // A rename would replace a device node, FIFO or socket itself: never do that.
  const existing = quietly(() => lstatSync(target));
  if (existing && !existing.isFile() && !existing.isSymbolicLink() && !existing.isDirectory()) {
    throw new QlaunchError(
      ErrorCode.SEED_WRITE,
      `Cannot write ${what} ${path}: it is ${specialKind(existing)}`,
      {
        hint: 'give the path of a regular file (or of none yet)',
      },
    );
  }
  const bytes = isSparse(data) ? data.head : data;
  // Cut the name so the temporary one stays within NAME_MAX (255 bytes), even for long multi-byte names.
  const hidden = `.${basename(target).slice(0, 60)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const temp = join(dirname(target), hidden);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o600);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    if (isSparse(data) && data.size > bytes.length) ftruncateSync(fd, data.size);
    if (durable) await fsyncFd(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) quietly(() => closeSync(fd!));
    quietly(() => rmSync(temp, { force: true }));
    const code = (error as NodeJS.ErrnoException).code;
    throw new QlaunchError(
      ErrorCode.SEED_WRITE,
      `Cannot write ${what} ${path}: ${(error as Error).message}`,
      {
        hint: writeHint(path, code),
        cause: error,
      },
    );
  }
  if (!durable) return;
  // Persist the rename itself; some filesystems cannot fsync a directory, and the data is already safe.
  const dir = await open(dirname(target), 'r').catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close().catch(() => undefined);
};

/** Builds the seed image and writes it atomically to `path` (mode 0600); invalid input writes nothing. */
export const writeSeedImage = async (
  path: string,
  seed: NoCloudSeed,
  options: WriteOptions = {},
): Promise<void> => {
  await writeFileAtomic(path, buildSparseSeedImage(seed), options);
};
