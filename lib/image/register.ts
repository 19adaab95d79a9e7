// Adding files made elsewhere to the store, e.g. a built Debian image's disk, kernel and initrd as one image.

import { createReadStream } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type Checksum, formatChecksum, hashFile } from './checksum.js';
import type { DebianImage } from './debian-manifest.js';
import { DEFAULT_USER, imageName } from './debian-recipe.js';
import { checkDiskImage } from './disk-check.js';
import { writeHashed } from './hashed-write.js';
import type { ImageOrigin } from './image-metadata.js';
import { addImage, diskFileName, type ImageStore, STORE_FILES, type StoredImage } from './store.js';

export interface RegisterImageOptions {
  name: string;
  files: { disk: string; kernel?: string | undefined; initrd?: string | undefined };
  metadata: {
    /** What made it, e.g. `qlaunch image build debian-12 (bookworm)`, or where it came from. */
    source: string;
    /** Default `build`. */
    origin?: ImageOrigin | undefined;
    arch?: Arch | undefined;
    append?: string | undefined;
    defaultUser?: string | undefined;
    packages?: Record<string, string> | undefined;
  };
  /** Move the files in (a rename on the store's filesystem) instead of copying them; the originals are gone after. */
  move?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Renames `from` to `to`, or copies and removes it when they are on different filesystems. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
    await rm(from);
  }
}

/**
 * Stores the disk (and the kernel and initrd of a direct-boot image) as the image `name`, read-only. The disk
 * must pass checkDiskImage; its checksum is computed here, since nothing published one.
 */
export async function registerImage(store: ImageStore, options: RegisterImageOptions): Promise<StoredImage> {
  const disk = resolve(options.files.disk);
  const info = await checkDiskImage(disk);
  // Every file must be there before any is moved: a failure after a move would lose the moved ones.
  for (const file of [options.files.kernel, options.files.initrd]) {
    if (file !== undefined && !(await stat(file).catch(() => undefined))?.isFile()) {
      throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `${file} is not a file`, {
        hint: 'give the kernel and initrd the image boots with',
      });
    }
  }
  return addImage(store, options.name, async (dir) => {
    const diskName = diskFileName(info.format);
    const target = join(dir, diskName);
    let size: number;
    let checksum: Checksum;
    if (options.move) {
      await moveFile(disk, target);
      checksum = await hashFile(target, 'sha256');
      await checkDiskImage(target);
      ({ size } = await stat(target));
    } else {
      const written = await writeHashed(createReadStream(disk), target, {
        algorithm: 'sha256',
        signal: options.signal,
        what: `copying ${disk}`,
      });
      await checkDiskImage(target);
      ({ bytes: size, checksum } = written);
    }
    const place = async (file: string | undefined, storedName: string): Promise<string | undefined> => {
      if (file === undefined) return undefined;
      await (options.move
        ? moveFile(resolve(file), join(dir, storedName))
        : copyFile(resolve(file), join(dir, storedName)));
      return storedName;
    };
    const { metadata } = options;
    return {
      format: info.format,
      disk: diskName,
      virtualSize: info.virtualSize,
      size,
      checksum: formatChecksum(checksum),
      origin: metadata.origin ?? 'build',
      source: metadata.source,
      arch: metadata.arch,
      kernel: await place(options.files.kernel, STORE_FILES.kernel),
      initrd: await place(options.files.initrd, STORE_FILES.initrd),
      append: metadata.append,
      defaultUser: metadata.defaultUser,
      packages: metadata.packages,
    };
  });
}

/** Stores what buildDebianImage made as the image `name`, with its kernel, initrd, command line and packages. */
export function registerDebianImage(
  store: ImageStore,
  built: DebianImage,
  options: { name: string; move?: boolean | undefined; signal?: AbortSignal | undefined },
): Promise<StoredImage> {
  return registerImage(store, {
    name: options.name,
    files: { disk: built.image, kernel: built.kernel, initrd: built.initrd },
    metadata: {
      source: `qlaunch image build ${imageName(built.release)} (Debian ${built.release} packages)`,
      arch: built.arch,
      append: built.append,
      defaultUser: DEFAULT_USER,
      packages: built.packages,
    },
    move: options.move,
    signal: options.signal,
  });
}
