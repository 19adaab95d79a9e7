// Image checksums: `sha256:HEX` strings, vendor SHA256SUMS / SHA512SUMS files (GNU, BSD and OpenSSL lines, or one
// bare digest), and hashing a file.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';

export const CHECKSUM_ALGORITHMS = ['sha256', 'sha512'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** A digest with its algorithm; `hex` is always lower case. */
export interface Checksum {
  algorithm: ChecksumAlgorithm;
  hex: string;
}

const HEX_DIGITS: Readonly<Record<ChecksumAlgorithm, number>> = { sha256: 64, sha512: 128 };

/** The algorithm whose digests have this many hex digits (how GNU sum files tell them apart). */
const algorithmOfLength = (length: number): ChecksumAlgorithm | undefined =>
  CHECKSUM_ALGORITHMS.find((algorithm) => HEX_DIGITS[algorithm] === length);

export const formatChecksum = (checksum: Checksum): string => `${checksum.algorithm}:${checksum.hex}`;

export const sameChecksum = (a: Checksum, b: Checksum): boolean =>
  a.algorithm === b.algorithm && a.hex === b.hex;

/** `sha256:HEX` or `sha512:HEX` (any case) as a Checksum; anything else is an error saying what is wanted. */
export function parseChecksum(text: string): Checksum {
  const match = /^(sha256|sha512):([0-9a-f]+)$/i.exec(text.trim());
  const algorithm = match?.[1]?.toLowerCase() as ChecksumAlgorithm | undefined;
  const hex = match?.[2]?.toLowerCase();
  if (algorithm && hex && hex.length === HEX_DIGITS[algorithm]) return { algorithm, hex };
  throw new QlaunchError(
    ErrorCode.IMAGE_CHECKSUM_INVALID,
    `checksum '${text}' is not sha256:HEX or sha512:HEX`,
    {
      hint: 'give the SHA-256 (64 hex digits) or SHA-512 (128 hex digits) the vendor publishes, e.g. sha256:3f…',
    },
  );
}

/** One line of a checksum file: the file it names and its digest. */
export interface ChecksumEntry {
  name: string;
  checksum: Checksum;
}

// GNU coreutils: "HEX  name" (text mode) or "HEX *name" (binary mode).
const GNU_LINE = /^([0-9a-fA-F]+) [ *](.+)$/;
// BSD style, also `sha256sum --tag` and Fedora's CHECKSUM files: "SHA256 (name) = HEX"; OpenSSL's
// `dgst` writes "SHA256(name)= HEX" (1.x) or "SHA2-256(name)= HEX" (3.x).
const BSD_LINE = /^(SHA256|SHA512|SHA2-256|SHA2-512) ?\((.+)\) ?= ?([0-9a-fA-F]+)$/;

const bsdAlgorithm = (tag: string): ChecksumAlgorithm =>
  tag.replace('2-', '').toLowerCase() as ChecksumAlgorithm;

// Windows editors and PowerShell's Out-File start a UTF-8 file with a byte order mark.
const withoutBom = (text: string): string => (text.startsWith('\uFEFF') ? text.slice(1) : text);

/** Undoes coreutils' escaping of names with a backslash or newline (such lines start with a backslash). */
const unescapeName = (name: string): string =>
  name.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));

/**
 * Every sha256/sha512 line of a vendor checksum file. Other lines (comments, PGP armour, MD5 or SHA-1 digests,
 * Fedora's size comments) are skipped, so a signed or mixed file parses as its usable lines.
 */
export function parseChecksumFile(text: string): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  for (const raw of withoutBom(text).split(/\r?\n/)) {
    const escaped = raw.startsWith('\\');
    const line = escaped ? raw.slice(1) : raw;
    const bsd = BSD_LINE.exec(line);
    if (bsd) {
      const algorithm = bsdAlgorithm(bsd[1]!);
      const hex = bsd[3]!.toLowerCase();
      if (hex.length !== HEX_DIGITS[algorithm]) continue;
      entries.push({ name: escaped ? unescapeName(bsd[2]!) : bsd[2]!, checksum: { algorithm, hex } });
      continue;
    }
    const gnu = GNU_LINE.exec(line);
    const algorithm = gnu ? algorithmOfLength(gnu[1]!.length) : undefined;
    if (!gnu || !algorithm) continue;
    const name = escaped ? unescapeName(gnu[2]!) : gnu[2]!;
    entries.push({ name, checksum: { algorithm, hex: gnu[1]!.toLowerCase() } });
  }
  return entries;
}

const withoutDotSlash = (name: string): string => name.replace(/^(\.\/)+/, '');

/**
 * The digest a checksum file gives for `fileName` (the downloaded URL's last segment). An exact name wins over
 * an entry in a subdirectory; SHA-512 wins over SHA-256; two different digests of one kind are an error.
 * `source` names the file in errors.
 */
export function checksumForFile(
  entries: readonly ChecksumEntry[],
  fileName: string,
  source: string,
): Checksum {
  const exact = entries.filter((entry) => withoutDotSlash(entry.name) === fileName);
  const matches = exact.length > 0 ? exact : entries.filter((entry) => basename(entry.name) === fileName);
  for (const algorithm of ['sha512', 'sha256'] as const) {
    const digests = new Set(
      matches.filter((m) => m.checksum.algorithm === algorithm).map((m) => m.checksum.hex),
    );
    const [hex, ...others] = digests;
    if (hex !== undefined && others.length > 0) {
      throw new QlaunchError(
        ErrorCode.IMAGE_CHECKSUM_INVALID,
        `${source} gives ${fileName} more than one ${algorithm} checksum`,
        { hint: 'pass the right one with --checksum' },
      );
    }
    if (hex !== undefined) return { algorithm, hex };
  }
  throw new QlaunchError(
    ErrorCode.IMAGE_CHECKSUM_INVALID,
    `${source} lists no sha256 or sha512 checksum for ${fileName}`,
    {
      hint: "check that the checksum file is the one for this image's directory, or pass --checksum sha256:HEX",
    },
  );
}

/** The digest a `.sha256` / `.sha512` file holds when it is nothing but that digest (one token, no file name). */
export function bareDigest(text: string): Checksum | undefined {
  const token = withoutBom(text).trim();
  const algorithm = /^[0-9a-fA-F]+$/.test(token) ? algorithmOfLength(token.length) : undefined;
  return algorithm && { algorithm, hex: token.toLowerCase() };
}

/** The digest the checksum file `text` gives for `fileName`: its one bare digest, or its line for that file. */
export const checksumInFile = (text: string, fileName: string, source: string): Checksum =>
  bareDigest(text) ?? checksumForFile(parseChecksumFile(text), fileName, source);

/** The digest of a file's bytes, read as a stream. */
export async function hashFile(path: string, algorithm: ChecksumAlgorithm): Promise<Checksum> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return { algorithm, hex: hash.digest('hex') };
}
