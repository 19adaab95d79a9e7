// Small real disk images for the image tests, made with qemu-img and qemu-io (qemu-utils).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/** A qcow2 of `sizeMiB` with 256 KiB of 0xa5 written at its start, so it holds real clusters. */
export async function makeQcow2(dir: string, name = 'base.qcow2', sizeMiB = 64): Promise<string> {
  const path = join(dir, name);
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', path, `${sizeMiB}M`]);
  await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xa5 0 256k', path]);
  return path;
}

/** A raw disk of whole sectors with an MBR boot signature, as a real disk starts. */
export function rawDisk(sectors = 2048): Buffer {
  const disk = Buffer.alloc(sectors * 512);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  if (disk.length >= 8192) disk.fill(0x42, 4096, 8192);
  return disk;
}

export const sha256Of = (path: string): string =>
  createHash('sha256').update(readFileSync(path)).digest('hex');
