// Pure reader for the agent's byte stream: JSON lines, where a 0xFF sentinel byte drops the unfinished line.

import { type FramedItem, JsonLineReader, type JsonObject } from '../qmp/framing.js';
import { QgaArgumentError, QgaProtocolError } from './errors.js';

/** The byte the agent sends before its reply to `guest-sync-delimited`, and that resets its own parser. */
export const SENTINEL = 0xff;

/** Agent replies carry base64 output of up to 16 MiB per stream (QEMU's cap), so lines are long: 64 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

export type AgentItem =
  | { kind: 'sentinel' }
  | { kind: 'message'; message: JsonObject; line: string }
  | { kind: 'error'; error: QgaProtocolError };

const toAgentItem = (item: FramedItem): AgentItem => {
  if (item.kind === 'message') return item;
  const { message, hint } = item.error;
  return {
    kind: 'error',
    error: new QgaProtocolError(`guest agent ${message}`, { hint, cause: item.error }),
  };
};

/**
 * Splits the stream into JSON objects, protocol errors and sentinels. 0xFF never occurs in UTF-8 JSON, so a
 * partial line before it is stale bytes from an earlier client: it is dropped, not reported.
 */
export class AgentStreamReader {
  readonly maxLineBytes: number;
  #lines: JsonLineReader;

  constructor(maxLineBytes: number = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isSafeInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new QgaArgumentError(
        `Expected the \`maxLineBytes\` option to be a positive integer, got ${String(maxLineBytes)}`,
      );
    }
    this.maxLineBytes = maxLineBytes;
    this.#lines = new JsonLineReader({ maxLineBytes });
  }

  push(chunk: Buffer): AgentItem[] {
    const items: AgentItem[] = [];
    let start = 0;
    for (;;) {
      const sentinel = chunk.indexOf(SENTINEL, start);
      const part = sentinel === -1 ? chunk.subarray(start) : chunk.subarray(start, sentinel);
      if (part.length > 0) items.push(...this.#lines.push(part).map(toAgentItem));
      if (sentinel === -1) return items;
      this.#lines = new JsonLineReader({ maxLineBytes: this.maxLineBytes });
      items.push({ kind: 'sentinel' });
      start = sentinel + 1;
    }
  }

  /** End of stream: an unterminated last line is still parsed. */
  end(): AgentItem[] {
    return this.#lines.end().map(toAgentItem);
  }
}
