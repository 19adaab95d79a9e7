// A minimal ustar writer for the few root-owned files qlaunch drops into an image root: pure.

import { ErrorCode, QlaunchError } from '../errors.js';

export interface TarEntry {
  /** Relative path inside the archive, no leading `/` (e.g. `etc/fstab`, `etc/cloud`). */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  /** File content; ignored for directories. */
  content?: string | Uint8Array;
}

const BLOCK = 512;
// ustar keeps a name in 100 bytes (plus a 155-byte prefix we do not need for short /etc paths).
const NAME_MAX = 100;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar wants.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const name = entry.type === 'directory' ? `${entry.path.replace(/\/$/, '')}/` : entry.path;
  if (Buffer.byteLength(name) > NAME_MAX || name.startsWith('/') || name.split('/').includes('..')) {
    throw new QlaunchError(
      ErrorCode.IMAGE_BUILD_INVALID,
      `tar entry name '${name}' is not a short relative path`,
    );
  }
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 'utf8');
  block.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  // The checksum is computed with its own field read as eight spaces.
  block.write('        ', 148, 'ascii');
  block.write(entry.type === 'directory' ? '5' : '0', 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** A ustar archive of `entries`, every one owned by root (uid 0, gid 0), all with the same mtime. */
export function ustarArchive(entries: readonly TarEntry[], mtime: number): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body =
      entry.type === 'file'
        ? typeof entry.content === 'string'
          ? Buffer.from(entry.content, 'utf8')
          : Buffer.from(entry.content ?? new Uint8Array())
        : Buffer.alloc(0);
    parts.push(header(entry, body.length, mtime), body);
    const pad = (BLOCK - (body.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  // Two zero blocks end the archive.
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** Directory entries (mode 0755) for every ancestor of the given file paths, parents first, each once. */
export function ancestorDirectories(paths: readonly string[]): TarEntry[] {
  const seen = new Set<string>();
  const dirs: TarEntry[] = [];
  for (const path of paths) {
    const parts = path.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (dir === '' || seen.has(dir)) continue;
      seen.add(dir);
      dirs.push({ path: dir, type: 'directory', mode: 0o755 });
    }
  }
  return dirs;
}
