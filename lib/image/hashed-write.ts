// Writing a byte stream to a new file while hashing it; all-zero chunks become holes, so sparse disks stay sparse.

import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Checksum, ChecksumAlgorithm } from './checksum.js';
import { isNoSpace, noSpaceError } from './no-space.js';

export interface HashedWriteOptions {
  algorithm: ChecksumAlgorithm;
  /** Bytes written so far, after every chunk. */
  onBytes?: ((bytes: number) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** What is being written, for the abort error ("download of https://…"). */
  what?: string | undefined;
  /** The whole size when known, for the error when the disk fills up. */
  expectedBytes?: number | undefined;
}

export interface HashedWrite {
  bytes: number;
  checksum: Checksum;
}

export const abortedError = (what: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_ABORTED, `${what} aborted`, {
    hint: 'run it again; nothing half-written was kept',
  });

const ZEROS = new Uint8Array(64 * 1024);

/** Whether every byte of `chunk` is zero; compares native slices, not byte by byte in JavaScript. */
export function isAllZero(chunk: Uint8Array): boolean {
  for (let offset = 0; offset < chunk.length; offset += ZEROS.length) {
    const slice = chunk.subarray(offset, offset + ZEROS.length);
    if (Buffer.compare(slice, ZEROS.subarray(0, slice.length)) !== 0) return false;
  }
  return true;
}

/**
 * Writes `source` to `dest` (which must not exist; created 0600) and returns its length and digest. The data
 * reaches the disk (fdatasync) before this resolves, so a later rename publishes whole bytes even after a crash.
 * On failure or abort `dest` is removed.
 */
export async function writeHashed(
  source: AsyncIterable<Uint8Array>,
  dest: string,
  options: HashedWriteOptions,
): Promise<HashedWrite> {
  const what = options.what ?? `writing ${dest}`;
  if (options.signal?.aborted) throw abortedError(what);
  const hash = createHash(options.algorithm);
  const file = await open(dest, 'wx', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of source) {
      if (options.signal?.aborted) throw abortedError(what);
      hash.update(chunk);
      // Skipping a zero chunk leaves a hole that reads back as zeros: no disk space for empty sectors.
      if (!isAllZero(chunk)) await file.write(chunk, 0, chunk.length, bytes);
      bytes += chunk.length;
      options.onBytes?.(bytes);
    }
    if (options.signal?.aborted) throw abortedError(what);
    await file.truncate(bytes);
    await file.datasync();
  } catch (error) {
    await file.close();
    await rm(dest, { force: true });
    if (isNoSpace(error)) throw await noSpaceError(what, dest, options.expectedBytes, error);
    throw error;
  }
  await file.close();
  return { bytes, checksum: { algorithm: options.algorithm, hex: hash.digest('hex') } };
}
