// A disk image file's bytes for the format inspector, and its verdict: regular files only, opened so that a FIFO
// or device swapped in can never block the read, and only the head (and the last sector) read.

import { constants } from 'node:fs';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { shellWord } from '../shell-word.js';
import {
  type AcceptedFormat,
  bytesToInspect,
  type FormatVerdict,
  HEAD_BYTES,
  type ImageBytes,
  inspectImage,
} from './format-inspect.js';

const FOOTER = 512;

const fileKind = (s: Awaited<ReturnType<typeof stat>>): string =>
  s.isDirectory()
    ? 'a directory'
    : s.isFIFO()
      ? 'a FIFO'
      : s.isCharacterDevice() || s.isBlockDevice()
        ? 'a device'
        : s.isSocket()
          ? 'a socket'
          : 'not a regular file';

const notAFile = (path: string, kind: string | undefined): QlaunchError =>
  new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `${path} is not a file${kind ? ` (${kind})` : ''}`, {
    hint: 'give the path of a disk image file',
  });

/** Reads up to `length` bytes at `position`; fewer only at the end of the file. */
async function readAt(file: FileHandle, length: number, position: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * The head (HEAD_BYTES, more for a qcow2 with big clusters) and last sector of the regular file `path`. Anything
 * else (a FIFO, a device, a directory) is refused before it is opened, and again by the open file's own stat.
 */
export async function readImageBytes(path: string): Promise<ImageBytes> {
  const found = await stat(path).catch(() => undefined);
  if (!found?.isFile()) throw notAFile(path, found && fileKind(found));
  // O_NONBLOCK: if a FIFO replaced the file since the stat, the open returns at once instead of waiting for a writer.
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const opened = await file.stat();
    if (!opened.isFile()) throw notAFile(path, fileKind(opened));
    const { size } = opened;
    let head = await readAt(file, Math.min(size, HEAD_BYTES), 0);
    const needed = bytesToInspect(head, size);
    if (needed > head.length) head = await readAt(file, needed, 0);
    const tail = await readAt(file, Math.min(size, FOOTER), Math.max(0, size - FOOTER));
    return { head, tail, size };
  } finally {
    await file.close();
  }
}

/** The inspector's verdict on the file at `path`, with the bytes it read. */
export async function inspectImageFile(path: string): Promise<{ verdict: FormatVerdict; bytes: ImageBytes }> {
  const bytes = await readImageBytes(path);
  return { verdict: inspectImage(bytes), bytes };
}

/** The fix for a refused image, naming `source` (a path, or a URL whose file the user downloads first). */
function refusalHint(source: string, verdict: Extract<FormatVerdict, { ok: false }>): string {
  if (verdict.fix === 'recopy') return 'download or copy it again: the file is truncated or overwritten';
  if (verdict.fix === 'decrypt') return 'store an unencrypted image';
  const remote = /^https?:\/\//.test(source);
  const file = remote ? basename(new URL(source).pathname) || 'IMAGE' : source;
  const out = shellWord(`${basename(file).replace(/\.[^.]*$/, '')}-flat.qcow2`);
  const input = shellWord(file);
  return (
    `${remote ? 'download it, and ' : ''}if you trust it, convert it to a self-contained qcow2 and use that: ` +
    `qemu-img convert -f ${verdict.format} -O qcow2 ${input} ${out} (qemu-img info -f ${verdict.format} ${input} ` +
    'first shows which other files it reads)'
  );
}

/** The error for an image the inspector refuses; `source` names it (the path, or the URL it came from). */
export const refusal = (source: string, verdict: Extract<FormatVerdict, { ok: false }>): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_INVALID, `${source} is not a usable disk image: ${verdict.problem}`, {
    hint: refusalHint(source, verdict),
  });

/** The format of the image at `path` if qlaunch may open it; an IMAGE_INVALID error naming `source` if not. */
export async function requireOpenableImage(
  path: string,
  source = path,
): Promise<{
  format: AcceptedFormat;
  bytes: ImageBytes;
}> {
  const { verdict, bytes } = await inspectImageFile(path);
  if (!verdict.ok) throw refusal(source, verdict);
  return { format: verdict.format, bytes };
}
