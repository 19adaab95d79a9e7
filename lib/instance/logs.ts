// Reading an instance's logs for people: its console, QEMU's own output, or qlaunch's journal, whole, from the
// last N lines, or followed as they grow.

import { createReadStream } from 'node:fs';
import { fileSize, followFile } from '../guest/console/console-log.js';
import { lastLines, tailFile } from '../guest/console/tail.js';
import type { InstancePaths } from './layout.js';

export const LOG_SOURCES = ['console', 'qemu', 'qlaunch'] as const;
export type LogSource = (typeof LOG_SOURCES)[number];

export interface ReadLogOptions {
  source?: LogSource | undefined;
  /** Start with only the last N lines. */
  lines?: number | undefined;
  /** Keep yielding what is appended until `signal` aborts. */
  follow?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

const fileOf = (paths: InstancePaths, source: LogSource): string =>
  ({ console: paths.console, qemu: paths.qemuLog, qlaunch: paths.log })[source];

/** The log's bytes as they are (and, following, as they come). */
export async function* readLog(paths: InstancePaths, options: ReadLogOptions = {}): AsyncGenerator<Buffer> {
  const file = fileOf(paths, options.source ?? 'console');
  const size = await fileSize(file);
  if (options.lines !== undefined) {
    const text = lastLines(await tailFile(file), options.lines);
    if (text) yield Buffer.from(`${text}\n`);
  }
  const from = options.lines !== undefined ? size : 0;
  if (!options.follow) {
    if (size > from) for await (const chunk of createReadStream(file, { start: from })) yield chunk as Buffer;
    return;
  }
  yield* followFile(file, { offset: from, signal: options.signal });
}
