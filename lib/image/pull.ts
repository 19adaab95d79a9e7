// Pulling an image from a URL into the store: the checksum is known first, the streamed download is verified and
// checked as a disk before it is kept, and an image already stored with that checksum is not downloaded again.

import { join } from 'node:path';
import type { Arch } from '../arch/table.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import {
  type Checksum,
  checksumInFile,
  formatChecksum,
  hashFile,
  parseChecksum,
  sameChecksum,
} from './checksum.js';
import { type DownloadProgress, downloadFile, fetchText } from './download.js';
import { checkDownloadUrl } from './download-url.js';
import { checkImageName, urlFileName } from './image-name.js';
import { keepCheckedDisk } from './keep-disk.js';
import { addImage, findImage, type ImageStore, type StoredImage } from './store.js';
import { shownUrl } from './url-text.js';

export interface PullImageOptions {
  url: string;
  name: string;
  store: ImageStore;
  /** `sha256:HEX` or `sha512:HEX`. */
  checksum?: string | undefined;
  /** A vendor SHA256SUMS / SHA512SUMS (or BSD-style CHECKSUM) file that lists the URL's file name. */
  checksumUrl?: string | undefined;
  /** Keep the image though nothing verified it (its sha256 is still recorded). Otherwise a checksum is required. */
  unverified?: boolean | undefined;
  arch?: Arch | undefined;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Fail when no byte arrives for this many milliseconds (default 60 s). */
  stallTimeout?: number | undefined;
}

export interface PulledImage {
  image: StoredImage;
  /** False when the image was already in the store with the expected checksum. */
  downloaded: boolean;
  /** The checksum the image was verified against, or undefined for an unverified pull. */
  verified: Checksum | undefined;
}

function checkStallTimeout(value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new QlaunchError(
      ErrorCode.USAGE,
      `stallTimeout ${JSON.stringify(value)} is not a positive number of milliseconds`,
      { hint: 'e.g. stallTimeout: 60_000' },
    );
  }
}

/** The checksum the download must have: given, or looked up in the vendor's checksum file. */
export async function expectedChecksum(options: PullImageOptions): Promise<Checksum | undefined> {
  if (options.checksum !== undefined && options.checksumUrl !== undefined) {
    throw new QlaunchError(
      ErrorCode.IMAGE_CHECKSUM_INVALID,
      'both a checksum and a checksum URL were given',
      {
        hint: 'give one: --checksum sha256:HEX, or --checksum-url with the vendor’s SHA256SUMS',
      },
    );
  }
  if (options.checksum !== undefined) return parseChecksum(options.checksum);
  if (options.checksumUrl !== undefined) {
    const text = await fetchText(options.checksumUrl, {
      signal: options.signal,
      stallTimeout: options.stallTimeout,
    });
    return checksumInFile(text, urlFileName(options.url), shownUrl(options.checksumUrl));
  }
  if (options.unverified) return undefined;
  throw new QlaunchError(
    ErrorCode.IMAGE_CHECKSUM_INVALID,
    `nothing to verify ${shownUrl(options.url)} against`,
    {
      hint: 'pass --checksum sha256:HEX, or --checksum-url with the vendor’s SHA256SUMS; --no-verify keeps it unverified',
    },
  );
}

/** Whether the stored image is the one asked for: same checksum (hashed again if the kinds differ), or same URL. */
async function isSameImage(
  image: StoredImage,
  expected: Checksum | undefined,
  url: string,
): Promise<boolean> {
  // Records before redaction hold the URL as given.
  if (expected === undefined) return image.source === shownUrl(url) || image.source === url;
  const recorded = parseChecksum(image.checksum);
  if (recorded.algorithm === expected.algorithm) return sameChecksum(recorded, expected);
  return sameChecksum(await hashFile(image.path, expected.algorithm), expected);
}

const differentImage = (image: StoredImage, expected: Checksum | undefined, url: string): QlaunchError =>
  new QlaunchError(
    ErrorCode.IMAGE_EXISTS,
    expected
      ? `image '${image.name}' is already stored with ${image.checksum}, but ${shownUrl(url)} should be ${formatChecksum(expected)}`
      : `image '${image.name}' is already stored from ${image.source}, not ${shownUrl(url)}`,
    { hint: `remove it (qlaunch image rm ${image.name}) to pull this one, or pull it under another name` },
  );

/**
 * A stored image reused for `url` must be the one that URL names: the same checksum when one is given inline, else
 * the same source URL (a vendor's checksum file is not fetched again just to reuse what is stored).
 */
export async function checkStoredSource(
  image: StoredImage,
  source: { url: string; checksum?: string | undefined },
): Promise<void> {
  const expected = source.checksum === undefined ? undefined : parseChecksum(source.checksum);
  if (!(await isSameImage(image, expected, source.url))) throw differentImage(image, expected, source.url);
}

/**
 * Downloads `url` into the store as `name` and verifies it (checksum, then checkDiskImage) before it is kept.
 * Everything in flight lives in a scratch directory inside the store that is removed on any failure or abort.
 */
export async function pullImage(options: PullImageOptions): Promise<PulledImage> {
  const { store, url } = options;
  const name = checkImageName(options.name);
  checkDownloadUrl(url);
  checkStallTimeout(options.stallTimeout);
  const expected = await expectedChecksum(options);
  const existing = await findImage(store, name);
  if (existing) {
    if (await isSameImage(existing, expected, url))
      return { image: existing, downloaded: false, verified: expected };
    throw differentImage(existing, expected, url);
  }
  try {
    const image = await addImage(
      store,
      name,
      async (dir) => {
        const part = join(dir, 'download.part');
        const download = await downloadFile(url, part, {
          algorithm: expected?.algorithm ?? 'sha256',
          onProgress: options.onProgress,
          signal: options.signal,
          stallTimeout: options.stallTimeout,
        });
        if (expected && !sameChecksum(download.checksum, expected)) {
          throw new QlaunchError(
            ErrorCode.IMAGE_CHECKSUM_MISMATCH,
            `${shownUrl(url)} has ${formatChecksum(download.checksum)}, not the expected ${formatChecksum(expected)}`,
            {
              hint: 'the download was damaged or the image changed upstream: pull again, and check the checksum’s source',
            },
          );
        }
        // Errors name the URL: the scratch file is gone by the time anyone reads them.
        return keepCheckedDisk(dir, part, {
          source: shownUrl(url),
          origin: 'pull',
          size: download.bytes,
          checksum: download.checksum,
          arch: options.arch,
        });
      },
      options.signal,
    );
    return { image, downloaded: true, verified: expected };
  } catch (error) {
    // A concurrent pull of the same image got there first: that is success if it is the same image.
    if (isQlaunchError(error, ErrorCode.IMAGE_EXISTS)) {
      const winner = await findImage(store, name).catch(() => undefined);
      if (winner && (await isSameImage(winner, expected, url))) {
        return { image: winner, downloaded: true, verified: expected };
      }
    }
    throw error;
  }
}
