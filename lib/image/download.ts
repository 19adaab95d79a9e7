// Fetching an image over HTTP(S) straight to a file while hashing it; a transfer that stalls fails after a bound.

import { rm } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Checksum, ChecksumAlgorithm } from './checksum.js';
import { abortedError, writeHashed } from './hashed-write.js';
import { httpGet } from './http-get.js';
import { shownUrl } from './url-text.js';

/** How long a download may go without a byte before it fails, unless told otherwise. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

export interface DownloadProgress {
  received: number;
  /** From Content-Length; undefined when the server does not say. */
  total: number | undefined;
  /** Set while no byte has arrived for a while: how long, in milliseconds. */
  stalledMs?: number | undefined;
}

export interface DownloadOptions {
  algorithm: ChecksumAlgorithm;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Fail when no byte arrives for this many milliseconds (default DEFAULT_STALL_TIMEOUT_MS). */
  stallTimeout?: number | undefined;
}

export interface Download {
  bytes: number;
  checksum: Checksum;
  /** Where the bytes came from after redirects. */
  finalUrl: string;
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** The error for a transfer that stopped: what, after how much, and how to wait longer. */
export const stalledError = (what: string, stalledMs: number, progress: string): QlaunchError =>
  new QlaunchError(
    ErrorCode.IMAGE_DOWNLOAD_STALLED,
    `${what} stalled: nothing arrived for ${seconds(stalledMs)}${progress}`,
    {
      hint: 'the server stopped sending: pull again (nothing partial was kept), or allow a longer pause with --stall-timeout SECONDS (stallTimeout in the library)',
    },
  );

const causeText = (error: unknown): string => {
  const code = (error as NodeJS.ErrnoException).code;
  const message = String((error as Error)?.message ?? error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
};

/**
 * Streams `url` into `dest` (created, must not exist) while hashing it. A broken-off or stalled transfer, an HTTP
 * error or an abort throws and leaves no `dest` behind.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<Download> {
  const what = `download of ${shownUrl(url)}`;
  let received = 0;
  let total: number | undefined;
  const sofar = () =>
    received > 0 || total !== undefined
      ? ` after ${received}${total === undefined ? '' : ` of ${total}`} bytes`
      : '';
  const response = await httpGet(url, {
    what,
    signal: options.signal,
    stallTimeout: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT_MS,
    stallError: (ms) => stalledError(what, ms, sofar()),
    onStall: (stalledMs) => options.onProgress?.({ received, total, stalledMs }),
  });
  total = response.length;
  let written: Awaited<ReturnType<typeof writeHashed>>;
  try {
    written = await writeHashed(response.body, dest, {
      algorithm: options.algorithm,
      signal: options.signal,
      what,
      expectedBytes: total,
      onBytes: (bytes) => {
        received = bytes;
        options.onProgress?.({ received: bytes, total });
      },
    });
  } catch (error) {
    response.cancel();
    if (error instanceof QlaunchError) throw error;
    if (options.signal?.aborted) throw abortedError(what);
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `download of ${shownUrl(url)} broke off${sofar()}: ${causeText(error)}`,
      { hint: 'pull again; nothing partial was kept', cause: error },
    );
  }
  // Node ends a body cut short of its Content-Length with an error; this keeps a short file from passing as whole.
  if (total !== undefined && written.bytes !== total) {
    await rm(dest, { force: true });
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `download of ${shownUrl(url)} broke off after ${written.bytes} of ${total} bytes`,
      { hint: 'pull again; nothing partial was kept' },
    );
  }
  return { ...written, finalUrl: response.url };
}

/** A small text file (a vendor's SHA256SUMS), refused when larger than `maxBytes`. */
export async function fetchText(
  url: string,
  options: { signal?: AbortSignal | undefined; maxBytes?: number; stallTimeout?: number | undefined } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const what = `fetching ${shownUrl(url)}`;
  const response = await httpGet(url, {
    what,
    signal: options.signal,
    stallTimeout: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT_MS,
    stallError: (ms) => stalledError(what, ms, ''),
  });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > maxBytes) {
        throw new QlaunchError(
          ErrorCode.IMAGE_CHECKSUM_INVALID,
          `${shownUrl(url)} is larger than ${maxBytes} bytes`,
          {
            hint: 'give the URL of the checksum file (SHA256SUMS), not of the image',
          },
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    response.cancel();
    if (error instanceof QlaunchError) throw error;
    if (options.signal?.aborted) throw abortedError(what);
    throw new QlaunchError(ErrorCode.IMAGE_DOWNLOAD_FAILED, `${what} broke off: ${causeText(error)}`, {
      hint: 'try again',
      cause: error,
    });
  }
  return Buffer.concat(chunks).toString('utf8');
}
