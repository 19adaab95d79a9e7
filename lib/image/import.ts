// Adding a local disk image file to the store: checked, copied (sparse) while hashed, and checked again as stored.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkDiskImage } from './disk-check.js';
import { writeHashed } from './hashed-write.js';
import { checkImageName, imageNameFrom } from './image-name.js';
import { keepCheckedDisk } from './keep-disk.js';
import { addImage, type ImageStore, type StoredImage } from './store.js';

export interface CopyProgress {
  copied: number;
  total: number;
}

export interface ImportImageOptions {
  file: string;
  /** Default: the file name without its extensions (`jammy.qcow2` → `jammy`). */
  name?: string | undefined;
  arch?: Arch | undefined;
  /** The format the file must have; default: qcow2 for a `.qcow2` name, else whatever its header says. */
  format?: 'raw' | 'qcow2' | undefined;
  onProgress?: ((progress: CopyProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Copies a disk image into the store as `name`. The file must pass checkDiskImage before anything is copied,
 * and the copy must pass it again (and keep its format) before it is kept. The original is only read.
 */
export async function importImage(store: ImageStore, options: ImportImageOptions): Promise<StoredImage> {
  const source = resolve(options.file);
  const name = checkImageName(options.name ?? imageNameFrom(source));
  const before = await checkDiskImage(source);
  checkExpectedFormat(source, before.format, options.format);
  const total = (await stat(source)).size;
  return addImage(
    store,
    name,
    async (dir) => {
      const part = join(dir, 'import.part');
      const written = await writeHashed(createReadStream(source), part, {
        algorithm: 'sha256',
        signal: options.signal,
        what: `import of ${source}`,
        expectedBytes: total,
        onBytes: (copied) => options.onProgress?.({ copied, total }),
      });
      const facts = {
        source,
        origin: 'import' as const,
        size: written.bytes,
        checksum: written.checksum,
        arch: options.arch,
      };
      return keepCheckedDisk(dir, part, facts, (info) => {
        if (info.format !== before.format || written.bytes !== total) {
          throw new QlaunchError(ErrorCode.IMAGE_INVALID, `${source} changed while it was being copied`, {
            hint: 'import it again once nothing is writing to it',
          });
        }
      });
    },
    options.signal,
  );
}

/** A file named or declared qcow2 whose header is not (a random file named x.qcow2 is not a raw disk by default). */
function checkExpectedFormat(source: string, actual: string, declared: 'raw' | 'qcow2' | undefined): void {
  const expected = declared ?? (/\.qcow2?$/i.test(source) ? 'qcow2' : undefined);
  if (expected === undefined || expected === actual) return;
  const named = declared === undefined ? 'named like a qcow2 image' : `declared ${declared}`;
  throw new QlaunchError(ErrorCode.IMAGE_INVALID, `${source} is ${named}, but its contents are ${actual}`, {
    hint:
      actual === 'raw'
        ? 'if it is a raw disk, import it with --format raw; if it should be qcow2, it is damaged: fetch it again'
        : `import it with --format ${actual}, or without --format`,
  });
}
