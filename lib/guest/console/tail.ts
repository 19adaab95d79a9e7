// Reading the end of a log file: what QEMU said since an offset, or the last lines, capped.

import { open } from 'node:fs/promises';

const CAP = 64 * 1024;

/** The text of `path` from `offset` (at most the last 64 KiB of it); empty when the file is missing. */
export async function tailFile(path: string, offset = 0): Promise<string> {
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const start = Math.max(offset, size - CAP);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** The last `count` lines of `text`. */
export const lastLines = (text: string, count: number): string =>
  text.trimEnd().split('\n').slice(-count).join('\n');
