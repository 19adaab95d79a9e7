// Whether a file is a disk image worth keeping: qemu-img reads it, qcow2 and the like pass `qemu-img check`,
// and a "raw" file (qemu-img calls anything it cannot place raw) looks like a disk rather than text or an archive.

import { open, stat } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
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

/** Why a file qemu-img calls raw is not a disk image (given its first sector and size), or undefined if it may be. */
export function rawImageProblem(
  head: Uint8Array,
  size: number,
): { problem: string; hint: string } | undefined {
  if (size === 0) return { problem: 'it is empty', hint: 'check the file' };
  const archive = ARCHIVES.find(({ magic }) => magic.every((byte, i) => head[i] === byte));
  if (archive) return { problem: `it is a ${archive.kind} archive, not a disk image`, hint: archive.hint };
  if (looksLikeText(head.subarray(0, SECTOR))) {
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

async function readHead(path: string): Promise<{ head: Uint8Array; size: number }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const head = new Uint8Array(Math.min(size, SECTOR));
    await file.read(head, 0, head.length, 0);
    return { head, size };
  } finally {
    await file.close();
  }
}

/**
 * qemu-img's facts about `path` once it passed the checks: readable as an image, self-contained (no backing
 * file), not encrypted, and either clean under `qemu-img check` or a raw file that looks like a disk.
 */
export async function checkDiskImage(path: string): Promise<ImageInfo> {
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile()) {
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `${path} is not a file`, {
      hint: 'give the path of a disk image file',
    });
  }
  const { backingChain: _, ...info } = await qemuImgInfo(path);
  if (info.backingFilename !== undefined) {
    throw invalid(
      path,
      `it is an overlay on ${info.backingFilename}`,
      `store a self-contained copy: qemu-img convert -O ${info.format} ${path} flat.${info.format}`,
    );
  }
  if (info.encrypted) throw invalid(path, 'it is encrypted', 'store an unencrypted image');
  if (info.format === 'raw') {
    const { head, size } = await readHead(path);
    const problem = rawImageProblem(head, size);
    if (problem) throw invalid(path, problem.problem, problem.hint);
    return info;
  }
  if (info.corrupt)
    throw invalid(path, `its ${info.format} corrupt flag is set`, 'repair it: qemu-img check -r all');
  const check = await qemuImgCheck(path, info.format);
  if (check.status === 'corrupt' || check.status === 'failed') {
    const counts = `${check.corruptions} corruptions, ${check.checkErrors} check errors`;
    throw invalid(
      path,
      `qemu-img check finds it damaged (${counts})${check.detail ? `: ${check.detail.split('\n')[0]}` : ''}`,
      'download or copy it again: the file is truncated or overwritten',
    );
  }
  return info;
}
