// Reading one input file of a seed as bytes, the way cloud-localds takes it: a path, or - for standard input; never
// more than a bound, so /dev/zero or a runaway pipe fails with a clear error instead of exhausting memory.

import { type FileHandle, open } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';

/** Where an input comes from when its path is "-". */
export type StdinReader = (maxBytes: number) => Promise<Uint8Array | undefined>;

export interface ReadInputOptions {
  /** What the file is, for errors: "user-data", "meta-data", … */
  what: string;
  /** Larger inputs are refused (SEED_TOO_LARGE). */
  maxBytes: number;
  /** How "-" is read (default: this process's stdin). */
  stdin?: StdinReader | undefined;
}

const CHUNK = 64 * 1024;
const MIB = 1024 * 1024;

const isStdin = (path: string): boolean => path === '-' || path === '/dev/stdin';

/** How an input is named in errors: its path, or "from standard input". */
export const inputName = (path: string, what: string): string =>
  isStdin(path) ? `${what} from standard input` : `${what} file ${path}`;

const size = (bytes: number): string => (bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${bytes} bytes`);

const tooLarge = (name: string, maxBytes: number): QlaunchError =>
  new QlaunchError(ErrorCode.SEED_TOO_LARGE, `${name} is larger than ${size(maxBytes)}`, {
    hint: 'a seed carries configuration, not payloads: have the guest fetch large files (runcmd, or write_files with a source URL)',
  });

/** Chunks from `source` while they stay within `maxBytes`; undefined once they would pass it. */
async function collect(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** This process's standard input, up to `maxBytes` (undefined past it). */
export const readProcessStdin: StdinReader = (maxBytes) =>
  collect(process.stdin as AsyncIterable<Uint8Array>, maxBytes);

/** An open file's chunks, read as they come: a regular file, a pipe, or a device that never ends. */
async function* fileChunks(file: FileHandle): AsyncGenerator<Uint8Array> {
  for (;;) {
    const buffer = new Uint8Array(CHUNK);
    const { bytesRead } = await file.read(buffer, 0, CHUNK, null);
    if (bytesRead === 0) return;
    yield buffer.subarray(0, bytesRead);
  }
}

/** A regular file read into one buffer of its size (no second copy); one that grows past the bound is refused. */
async function readWhole(file: FileHandle, size: number, maxBytes: number): Promise<Uint8Array | undefined> {
  const buffer = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await file.read(buffer, filled, size - filled, null);
    if (bytesRead === 0) return buffer.subarray(0, filled);
    filled += bytesRead;
  }
  // Written to while we read: the rest comes as chunks, still within the bound.
  const rest = await collect(fileChunks(file), maxBytes - size);
  if (rest === undefined) return undefined;
  return rest.length === 0 ? buffer : Buffer.concat([buffer, rest]);
}

function unreadable(path: string, what: string, error: unknown): QlaunchError {
  const code = (error as NodeJS.ErrnoException).code;
  const problem =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EISDIR'
        ? 'is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'cannot be read (permission denied)'
          : `cannot be read (${code ?? (error as Error).message})`;
  return new QlaunchError(ErrorCode.SEED_INVALID, `${what} file ${path} ${problem}`, {
    hint: `give the path of an existing ${what} file, or - to read it from standard input`,
    cause: error,
  });
}

/** The bytes of input `path` ("-" is standard input), unchanged; at most `maxBytes` of them are ever held. */
export async function readInputFile(path: string, options: ReadInputOptions): Promise<Uint8Array> {
  const { what, maxBytes } = options;
  let bytes: Uint8Array | undefined;
  if (isStdin(path)) {
    bytes = await (options.stdin ?? readProcessStdin)(maxBytes);
  } else {
    let file: FileHandle | undefined;
    try {
      file = await open(path, 'r');
      const info = await file.stat();
      if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      // A regular file says its size; a pipe or device is read until the bound.
      if (info.isFile() && info.size > maxBytes) throw tooLarge(inputName(path, what), maxBytes);
      bytes = info.isFile()
        ? await readWhole(file, info.size, maxBytes)
        : await collect(fileChunks(file), maxBytes);
    } catch (error) {
      if (error instanceof QlaunchError) throw error;
      throw unreadable(path, what, error);
    } finally {
      await file?.close().catch(() => undefined);
    }
  }
  if (bytes === undefined) throw tooLarge(inputName(path, what), maxBytes);
  return bytes;
}
