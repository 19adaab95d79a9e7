// Whether a file is a disk image worth keeping: qlaunch's own format inspector accepts it (raw, or a qcow2 that
// reads no other file) before any tool opens it; qemu-img, told the format, reads it and a qcow2 passes
// `qemu-img check`; and a raw file looks like a disk rather than text or an archive.

import { basename, resolve } from 'node:path';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { shellWord } from '../shell-word.js';
import type { AcceptedFormat } from './format-inspect.js';
import { inspectImageFile, refusal } from './image-file.js';
import { type ImageInfo, qemuImgCheck, qemuImgInfo } from './qemu-img.js';

const SECTOR = 512;

// Compressed files people download instead of the disk inside them, by their magic bytes.
const ARCHIVES: ReadonlyArray<{ kind: string; magic: readonly number[]; hint: string }> = [
  { kind: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], hint: 'unxz it first' },
  { kind: 'gzip', magic: [0x1f, 0x8b], hint: 'gunzip it first (a .tar.gz holds a disk.raw: untar it)' },
  { kind: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], hint: 'unzstd it first' },
  { kind: 'bzip2', magic: [0x42, 0x5a, 0x68], hint: 'bunzip2 it first' },
  { kind: 'zip', magic: [0x50, 0x4b, 0x03, 0x04], hint: 'unzip it first' },
];

/**
 * Whether `head` reads as text: no NUL, valid UTF-8, and no control characters but tab, newline, carriage
 * return, form feed and escape. A real disk's first sector never does: an MBR ends in 0x55 0xAA (not UTF-8),
 * and blank disks, GPT, ext4 and ISO 9660 all start with zero bytes.
 */
export function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  let text: string;
  try {
    // stream: a character cut by the end of `head` is still text; a byte that is never UTF-8 is not.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return !/[\0-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]/.test(text);
}

// Shorter text before zeros can be a filesystem's magic (XFS starts "XFSB", then its block size).
const PADDED_TEXT_MIN = 8;

/**
 * Whether `sector` is text padded with zero bytes (a web page or notes cut to a whole sector): a disk's first
 * sector never is, since a boot sector holds code and a 0x55 0xAA signature, and a filesystem binary fields.
 */
export function isPaddedText(sector: Uint8Array): boolean {
  const end = sector.indexOf(0);
  if (end < PADDED_TEXT_MIN) return false;
  return looksLikeText(sector.subarray(0, end)) && sector.subarray(end).every((byte) => byte === 0);
}

/** The kind of compressed archive `head` starts ("gzip", "xz", …), or undefined. */
export const archiveKind = (head: Uint8Array): string | undefined =>
  ARCHIVES.find(({ magic }) => magic.every((byte, i) => head[i] === byte))?.kind;

/** Why a file qemu-img calls raw is not a disk image (given its first sector and size), or undefined if it may be. */
export function rawImageProblem(
  head: Uint8Array,
  size: number,
): { problem: string; hint: string } | undefined {
  if (size === 0) return { problem: 'it is empty', hint: 'check the file' };
  const archive = ARCHIVES.find(({ magic }) => magic.every((byte, i) => head[i] === byte));
  if (archive) return { problem: `it is a ${archive.kind} archive, not a disk image`, hint: archive.hint };
  if (looksLikeText(head.subarray(0, SECTOR)) || isPaddedText(head.subarray(0, SECTOR))) {
    return { problem: 'it starts with text, not a disk', hint: 'give the disk image itself' };
  }
  if (size % SECTOR !== 0) {
    return {
      problem: `its size (${size} bytes) is not a whole number of ${SECTOR}-byte sectors`,
      hint: 'a raw disk is always whole sectors: the file may be truncated or not a disk at all',
    };
  }
  return undefined;
}

const invalid = (path: string, problem: string, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_INVALID, `${path} is not a usable disk image: ${problem}`, { hint });

export interface CheckDiskOptions {
  /** What to call the image in errors, if not its path: the URL a download came from. */
  source?: string | undefined;
}

type HeaderVerdict =
  | { ok: true; format: AcceptedFormat }
  | { ok: false; problem: string; error: QlaunchError };

/** The inspector's verdict on `path`, and for a raw file the raw checks: only its head and last sector are read. */
async function headerVerdict(path: string, source: string): Promise<HeaderVerdict> {
  const { verdict, bytes } = await inspectImageFile(path);
  if (!verdict.ok) return { ok: false, problem: verdict.problem, error: refusal(source, verdict) };
  if (verdict.format === 'raw') {
    const raw = rawImageProblem(bytes.head, bytes.size);
    if (raw) return { ok: false, problem: raw.problem, error: invalid(source, raw.problem, raw.hint) };
  }
  return { ok: true, format: verdict.format };
}

/**
 * The format of the file at `path` if qlaunch may hand it to qemu-img and QEMU: a regular file that its format
 * inspector accepts (raw that looks like a disk, or a qcow2 with no backing or data file). Runs no tool.
 */
export async function checkDiskHeader(path: string, options: CheckDiskOptions = {}): Promise<AcceptedFormat> {
  const verdict = await headerVerdict(path, options.source ?? path);
  if (!verdict.ok) throw verdict.error;
  return verdict.format;
}

/**
 * Why the stored disk at `path` (recorded as `format`) would be refused today, or undefined if it would not.
 * Reads only its head and last sector, so listing a store stays cheap.
 */
export async function storedDiskProblem(path: string, format: string): Promise<string | undefined> {
  let verdict: HeaderVerdict;
  try {
    verdict = await headerVerdict(path, path);
  } catch (error) {
    if (isQlaunchError(error)) return error.message;
    throw error;
  }
  if (!verdict.ok) return verdict.problem;
  if (verdict.format !== format) return `it is ${verdict.format}, but recorded as ${format}`;
  return undefined;
}

/** qemu-img's words about the file at `path` in terms of `source`: a scratch file's path means nothing to the user. */
function inSourceTerms(text: string, path: string, source: string): string {
  if (source === path) return text;
  return text.split(resolve(path)).join(source).split(path).join(source);
}

/** qemu-img info on `path`, its refusal an IMAGE_INVALID error naming `source` with qemu-img's reason. */
async function readInfo(path: string, format: AcceptedFormat, source: string): Promise<ImageInfo> {
  try {
    const { backingChain: _, ...info } = await qemuImgInfo(path, { format });
    return info;
  } catch (error) {
    if (!isQlaunchError(error, ErrorCode.IMAGE_INVALID)) throw error;
    const prefix = `${path} cannot be read as a disk image: `;
    const reason = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    // qemu-img's "Could not open 'PATH': " says again what the message already names.
    const shown = inSourceTerms(reason.replace(`Could not open '${resolve(path)}': `, ''), path, source);
    throw invalid(source, `qemu-img cannot open it: ${shown}`, error.hint ?? 'check the file');
  }
}

/** The file to name in a command the user runs: the path, or for a download the file it is saved as. */
const fileToConvert = (path: string, source: string): string =>
  source === path
    ? path
    : /^https?:\/\//.test(source)
      ? basename(new URL(source).pathname) || 'IMAGE'
      : source;

/**
 * qemu-img's facts about `path` once it passed the checks: accepted by the format inspector before any tool
 * opens it, then read by qemu-img with that format named (never probed), self-contained (no backing file), not
 * encrypted, and either clean under `qemu-img check` or a raw file that looks like a disk.
 */
export async function checkDiskImage(path: string, options: CheckDiskOptions = {}): Promise<ImageInfo> {
  const source = options.source ?? path;
  const format = await checkDiskHeader(path, { source });
  const info = await readInfo(path, format, source);
  if (info.backingFilename !== undefined) {
    throw invalid(
      source,
      `it is an overlay on ${info.backingFilename}`,
      `store a self-contained copy: qemu-img convert -f ${format} -O qcow2 ${shellWord(fileToConvert(path, source))} flat.qcow2`,
    );
  }
  if (info.encrypted) throw invalid(source, 'it is encrypted', 'store an unencrypted image');
  if (info.format === 'raw') return info;
  if (info.corrupt)
    throw invalid(source, `its ${info.format} corrupt flag is set`, 'repair it: qemu-img check -r all');
  const check = await qemuImgCheck(path, info.format);
  if (check.status === 'corrupt' || check.status === 'failed') {
    const counts = `${check.corruptions} corruptions, ${check.checkErrors} check errors`;
    throw invalid(
      source,
      `qemu-img check finds it damaged (${counts})${check.detail ? `: ${inSourceTerms(check.detail.split('\n')[0]!, path, source)}` : ''}`,
      'download or copy it again: the file is truncated or overwritten',
    );
  }
  return info;
}
