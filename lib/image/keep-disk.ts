// The last step of adding a copied or downloaded disk to the store: checked as it lies in the store, renamed for its
// format, and described for the image's record.

import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Arch } from '../arch/table.js';
import { type Checksum, formatChecksum } from './checksum.js';
import { checkDiskImage } from './disk-check.js';
import type { ImageInfo } from './qemu-img.js';
import { diskFileName, type NewImage } from './store.js';

export interface KeptDiskFacts {
  /** What the user gave (a file or a URL): errors name it, since `part` is a scratch file. */
  source: string;
  origin: 'import' | 'pull';
  size: number;
  checksum: Checksum;
  arch?: Arch | undefined;
}

/** Check `part` in `dir` again as stored, let `verify` object, then keep it as the image's disk. */
export async function keepCheckedDisk(
  dir: string,
  part: string,
  facts: KeptDiskFacts,
  verify: (info: ImageInfo) => void = () => {},
): Promise<NewImage> {
  const info = await checkDiskImage(part, { source: facts.source });
  verify(info);
  const disk = diskFileName(info.format);
  await rename(part, join(dir, disk));
  return {
    format: info.format,
    disk,
    virtualSize: info.virtualSize,
    size: facts.size,
    checksum: formatChecksum(facts.checksum),
    origin: facts.origin,
    source: facts.source,
    arch: facts.arch,
  };
}
