// The build's scratch directory beside the output: made private, published by one rename, removed without crossing mounts.

import { chmod, mkdtemp, readdir, readFile, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { processAlive } from '../process-alive.js';

/** Prefix of the staging directories for `outDir`; the builder's pid follows, so stale ones can be told apart. */
export const stagingPrefix = (outDir: string): string => `.${basename(outDir)}.build-`;

/** The pid a staging directory name carries, if it is one of `outDir`'s. */
export function stagingPid(name: string, outDir: string): number | undefined {
  const prefix = stagingPrefix(outDir);
  if (!name.startsWith(prefix)) return undefined;
  const match = /^(\d+)-/.exec(name.slice(prefix.length));
  return match ? Number(match[1]) : undefined;
}

/** Undoes the octal escapes (`\040` for a space) of /proc/self/mountinfo paths. */
const unescapeMountPath = (path: string): string =>
  path.replace(/\\([0-7]{3})/g, (_, code: string) => String.fromCharCode(Number.parseInt(code, 8)));

/** Mount points at or below `dir`, from the text of /proc/self/mountinfo. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const base = dir.replace(/\/+$/, '');
  const found: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const mountPoint = line.split(' ')[4];
    if (mountPoint === undefined) continue;
    const path = unescapeMountPath(mountPoint);
    if (path === base || path.startsWith(`${base}/`)) found.push(path);
  }
  return found;
}

/** A fresh private (0700) staging directory beside `outDir`, on the same filesystem so publishing is a rename. */
export async function createStaging(outDir: string): Promise<string> {
  return mkdtemp(join(dirname(outDir), `${stagingPrefix(outDir)}${process.pid}-`));
}

async function makeDirsWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await makeDirsWritable(join(dir, entry.name));
}

/**
 * Removes `dir` and everything in it, refusing when anything is mounted below it: a recursive delete would
 * otherwise walk into a live /proc, /sys or /dev.
 */
export async function removeTree(dir: string): Promise<void> {
  const mounts = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''), dir);
  if (mounts.length > 0) {
    throw new QlaunchError(
      ErrorCode.IMAGE_BUILD_FAILED,
      `not removing ${dir}: ${mounts.join(', ')} still mounted`,
      {
        hint: `unmount them (umount -R ${mounts[0]}), then remove ${dir}`,
      },
    );
  }
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    // Without root, a read-only directory from the image stops the delete; the files are ours, so open it up.
    await makeDirsWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Removes staging directories of `outDir` whose builder is gone (killed before it could clean up); returns them. */
export async function removeStaleStaging(outDir: string): Promise<string[]> {
  const parent = dirname(outDir);
  const removed: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = stagingPid(name, outDir);
    if (pid === undefined || pid === process.pid || processAlive(pid)) continue;
    await removeTree(join(parent, name));
    removed.push(join(parent, name));
  }
  return removed;
}

/** Fails early when `outDir` already holds something: a build never overwrites an image. */
export async function assertOutDirFree(outDir: string): Promise<void> {
  const entries = await readdir(outDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new QlaunchError(ErrorCode.IMAGE_BUILD_INVALID, `cannot use ${outDir} as the output directory`, {
      hint: 'choose an output directory qlaunch can create',
      cause: error,
    });
  });
  if (entries.length > 0) {
    throw new QlaunchError(ErrorCode.IMAGE_BUILD_INVALID, `${outDir} already exists and is not empty`, {
      hint: 'remove it, or choose another output directory',
    });
  }
}

/** Moves the finished `from` directory to `outDir` in one rename (an empty `outDir` is replaced). */
export async function publish(from: string, outDir: string): Promise<void> {
  await assertOutDirFree(outDir);
  await rmdir(outDir).catch(() => {});
  await rename(from, outDir);
}
