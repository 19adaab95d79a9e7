// Test helpers: run Debian's own ISO 9660 and FAT readers over an image and collect what they extract.

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

/** Every regular file under `dir`, keyed by its '/'-separated path relative to `dir`. */
export const readTree = async (dir: string): Promise<Map<string, Buffer>> => {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(path);
      else out.set(path, await readFile(join(dir, path)));
    }
  };
  await walk('');
  return out;
};

export const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Writes `image` as `name` in `dir` and returns its path. */
export const saveImage = async (dir: string, name: string, image: Uint8Array): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, image);
  return path;
};

/** Which ISO 9660 tree xorriso loads: Rock Ridge (default), Joliet, or the plain ECMA-119 names. */
export type IsoTree = 'rockridge' | 'joliet' | 'ecma119';

/** Extracts with osirrox (libisofs); returns the files and xorriso's complaints (WARNING and worse). */
export const osirroxExtract = async (image: string, dir: string, tree: IsoTree = 'rockridge') => {
  await mkdir(dir, { recursive: true });
  const readFs = { rockridge: 'any', joliet: 'norock', ecma119: 'ecma119' }[tree];
  const result = await execa(
    'xorriso',
    ['-read_fs', readFs, '-osirrox', 'on', '-indev', image, '-extract', '/', dir],
    {
      reject: false,
    },
  );
  const complaints = result.stderr.split('\n').filter((l) => /(WARNING|SORRY|FAILURE|FATAL|ABORT)/.test(l));
  return { exitCode: result.exitCode, complaints, files: await readTree(dir) };
};

/** Extracts with bsdtar (libarchive), through Rock Ridge or, with `joliet`, through Joliet names. */
export const bsdtarExtract = async (
  image: string,
  dir: string,
  tree: 'rockridge' | 'joliet' = 'rockridge',
) => {
  await mkdir(dir, { recursive: true });
  const options = tree === 'joliet' ? ['--options', 'iso9660:!rockridge'] : [];
  const result = await execa('bsdtar', [...options, '-xf', image, '-C', dir], { reject: false });
  return { exitCode: result.exitCode, stderr: result.stderr, files: await readTree(dir) };
};

/** `blkid -p -o export` as key/value pairs (LABEL, TYPE, ...). */
export const blkid = async (image: string): Promise<Record<string, string>> => {
  const { stdout } = await execa('blkid', ['-p', '-o', 'export', image]);
  return Object.fromEntries(
    stdout.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
};

/** mtools converts long names to the locale's charset: make that UTF-8. */
export const MTOOLS_ENV = { LC_ALL: 'C.UTF-8' };

/** Extracts a FAT image with mtools' mcopy (recursive, long names). */
export const mcopyExtract = async (image: string, dir: string) => {
  await mkdir(dir, { recursive: true });
  const result = await execa('mcopy', ['-s', '-n', '-i', image, '::', dir], {
    reject: false,
    env: MTOOLS_ENV,
  });
  return { exitCode: result.exitCode, stderr: result.stderr, files: await readTree(dir) };
};

/** `fsck.vfat -n` (check only): exit code and output. */
export const fsckVfat = async (image: string) => {
  const result = await execa('fsck.vfat', ['-n', '-v', image], { reject: false });
  // The image path is left out so it cannot match what a test looks for in the report.
  return {
    exitCode: result.exitCode,
    output: `${result.stdout}\n${result.stderr}`.replaceAll(image, 'IMAGE'),
  };
};

/** Maps of path to bytes compared as path to sha256, so a failure prints something readable. */
export const digest = (files: ReadonlyMap<string, Uint8Array>): Record<string, string> =>
  Object.fromEntries(
    [...files].map(([path, data]) => [path, sha(data)]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );

/** Deterministic pseudo-random bytes (xorshift32), fast enough for multi-MiB fixtures. */
export const noise = (size: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
};
