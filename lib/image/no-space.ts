// A write that ran out of disk space, told as the filesystem it ran out on and how much more it needed.

import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { formatBytes } from '../bytes.js';
import { ErrorCode, QlaunchError } from '../errors.js';

const SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);

export const isNoSpace = (error: unknown): boolean =>
  SPACE_CODES.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');

/** The mount point holding `path`: the highest directory above it on the same device. */
export async function mountPointOf(path: string): Promise<string> {
  let here = path;
  const device = (await stat(here)).dev;
  for (;;) {
    const up = dirname(here);
    if (up === here || (await stat(up)).dev !== device) return here;
    here = up;
  }
}

/** What `dir`'s filesystem had free (mount point and bytes); undefined when it cannot be asked. */
async function freeSpace(dir: string): Promise<{ mount: string; free: number } | undefined> {
  try {
    const fs = await statfs(dir);
    return { mount: await mountPointOf(dir), free: fs.bavail * fs.bsize };
  } catch {
    return undefined;
  }
}

/**
 * The error for `what` running out of space while writing `file`: the filesystem (by mount point), what was
 * needed in all (when known), and what is free once the partial file is gone.
 */
export async function noSpaceError(
  what: string,
  file: string,
  needed: number | undefined,
  cause: unknown,
): Promise<QlaunchError> {
  const dir = dirname(file);
  const space = await freeSpace(dir);
  const where = space ? `the filesystem at ${space.mount}` : `the filesystem holding ${dir}`;
  const need = needed === undefined ? '' : `: it needs ${formatBytes(needed)}`;
  const free = space ? `, ${formatBytes(space.free)} is free` : '';
  return new QlaunchError(ErrorCode.IMAGE_STORE, `${what} ran out of space on ${where}${need}${free}`, {
    hint: `free space on ${space?.mount ?? dir} (or set QLAUNCH_HOME to a roomier place) and try again; nothing partial was kept`,
    cause,
  });
}
