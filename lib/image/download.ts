// Fetching an image over HTTP(S) with Node's fetch (redirects followed) straight to a file while hashing it.

import { ErrorCode, QlaunchError } from '../errors.js';
import type { Checksum, ChecksumAlgorithm } from './checksum.js';
import { checkDownloadUrl } from './download-url.js';
import { abortedError, writeHashed } from './hashed-write.js';
import { shownUrl } from './url-text.js';

export interface DownloadProgress {
  received: number;
  /** From Content-Length; undefined when the server does not say. */
  total: number | undefined;
}

export interface DownloadOptions {
  algorithm: ChecksumAlgorithm;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface Download {
  bytes: number;
  checksum: Checksum;
  /** Where the bytes came from after redirects. */
  finalUrl: string;
}

const causeText = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message;
  return detail ? `${(error as Error).message} (${detail})` : String((error as Error).message ?? error);
};

const isAbort = (error: unknown, signal: AbortSignal | undefined): boolean =>
  signal?.aborted === true || (error as Error)?.name === 'AbortError';

/** A GET whose failure (network, HTTP status) is a QlaunchError naming the URL and, for HTTP, the status. */
async function get(url: string, what: string, signal: AbortSignal | undefined): Promise<Response> {
  checkDownloadUrl(url);
  let response: Response;
  try {
    // identity: Content-Length then counts the bytes we store, and no server gzips a disk image behind our back.
    response = await fetch(url, {
      redirect: 'follow',
      signal: signal ?? null,
      headers: { 'accept-encoding': 'identity' },
    });
  } catch (error) {
    if (isAbort(error, signal)) throw abortedError(what);
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `cannot fetch ${shownUrl(url)}: ${causeText(error)}`,
      {
        hint: 'check the URL, the network and any proxy',
        cause: error,
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    const where = response.url && response.url !== url ? ` (redirected to ${shownUrl(response.url)})` : '';
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `GET ${shownUrl(url)}${where} failed: HTTP ${response.status} ${response.statusText}`.trimEnd(),
      {
        hint:
          response.status >= 500
            ? 'the server had a problem: try again later'
            : 'check the URL; the vendor may have moved or retired the image',
      },
    );
  }
  return response;
}

const contentLength = (response: Response): number | undefined => {
  const header = response.headers.get('content-length');
  const length = header === null ? Number.NaN : Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
};

/**
 * Streams `url` into `dest` (created, must not exist) while hashing it. A broken-off transfer, an HTTP error or
 * an abort throws and leaves no `dest` behind.
 */
export async function downloadFile(url: string, dest: string, options: DownloadOptions): Promise<Download> {
  const what = `download of ${shownUrl(url)}`;
  const response = await get(url, what, options.signal);
  const total = contentLength(response);
  const body = response.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  let written: Awaited<ReturnType<typeof writeHashed>>;
  let received = 0;
  try {
    written = await writeHashed(body, dest, {
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
    if (error instanceof QlaunchError) throw error;
    if (isAbort(error, options.signal)) throw abortedError(what);
    // fetch rejects a body cut short of its Content-Length or chunked end, so a short file never passes as whole.
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `download of ${shownUrl(url)} broke off after ${received}${total === undefined ? '' : ` of ${total}`} bytes: ${causeText(error)}`,
      { hint: 'pull again; nothing partial was kept', cause: error },
    );
  }
  return { ...written, finalUrl: response.url || url };
}

/** A small text file (a vendor's SHA256SUMS), refused when larger than `maxBytes`. */
export async function fetchText(
  url: string,
  options: { signal?: AbortSignal | undefined; maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  const response = await get(url, `fetching ${shownUrl(url)}`, options.signal);
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > maxBytes) {
        await response.body?.cancel().catch(() => {});
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
    if (error instanceof QlaunchError) throw error;
    if (isAbort(error, options.signal)) throw abortedError(`fetching ${shownUrl(url)}`);
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `fetching ${shownUrl(url)} broke off: ${causeText(error)}`,
      {
        hint: 'try again',
        cause: error,
      },
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}
