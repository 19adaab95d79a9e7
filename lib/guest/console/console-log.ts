// Reading an instance's console log (console.log, which QEMU writes itself): from an offset, and followed live.

import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { processAlive } from '../../process-alive.js';
import { SerialConsole } from './serial.js';

const POLL_MS = 100;
const TAIL_SEARCH_BYTES = 4 * 1024 * 1024;

/** The line qlaunch appends to the console log before each boot. */
export const BOOT_LINE = '\n-- qlaunch: boot at ';
export const bootLine = (date: Date): string => `${BOOT_LINE}${date.toISOString()} --\n`;

/** The file's size now: where a tail that wants only new output starts. */
export const fileSize = async (path: string): Promise<number> =>
  (await stat(path).catch(() => undefined))?.size ?? 0;

/** Where the current boot's output starts in the console log: after the last boot line qlaunch wrote. */
export async function lastBootOffset(path: string): Promise<number> {
  const size = await fileSize(path);
  const from = Math.max(0, size - TAIL_SEARCH_BYTES);
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return 0;
  try {
    const buffer = Buffer.alloc(size - from);
    await handle.read(buffer, 0, buffer.length, from);
    const at = buffer.lastIndexOf(BOOT_LINE);
    if (at < 0) return from;
    const end = buffer.indexOf('\n', at + 1);
    return from + (end < 0 ? buffer.length : end + 1);
  } finally {
    await handle.close();
  }
}

/** Yield chunks appended to `path` from `offset` on, until `signal` aborts (or, when given, `pid` dies). */
export async function* followFile(
  path: string,
  options: { offset?: number | undefined; signal?: AbortSignal | undefined; pid?: number | undefined },
): AsyncGenerator<Buffer> {
  let position = options.offset ?? 0;
  const buffer = Buffer.alloc(64 * 1024);
  for (;;) {
    const handle = await open(path, 'r').catch(() => undefined);
    if (handle) {
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          if (bytesRead === 0) break;
          position += bytesRead;
          yield Buffer.from(buffer.subarray(0, bytesRead));
        }
      } finally {
        await handle.close();
      }
    }
    if (options.signal?.aborted) return;
    if (options.pid !== undefined && !processAlive(options.pid)) return;
    await sleep(POLL_MS, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

/**
 * A SerialConsole fed from the console log from `offset`, so the readiness waits that work on a live console
 * (markers, kernel panics) work on a detached instance too; it ends when QEMU `pid` is gone.
 */
export function tailConsole(
  path: string,
  offset: number,
  pid: number,
): { serial: SerialConsole; stop(): void } {
  const serial = new SerialConsole();
  const aborting = new AbortController();
  void (async () => {
    for await (const chunk of followFile(path, { offset, signal: aborting.signal, pid })) serial.push(chunk);
    if (!aborting.signal.aborted) {
      serial.end(
        new QlaunchError(ErrorCode.VM_EXITED, 'QEMU exited', {
          hint: `last console lines:\n${serial.tail(15)}`,
        }),
      );
    }
  })();
  return { serial, stop: () => aborting.abort() };
}
