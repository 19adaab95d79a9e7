// Pure newline-delimited JSON framing shared by QMP and the guest agent: feed byte chunks, get objects or errors.

import { QmpArgumentError, QmpProtocolError } from './errors.js';

/** libvirt's and qemu.qmp's limit: a QMP line longer than this is treated as a broken peer. */
export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;

export type JsonObject = Record<string, unknown>;

export type FramedItem =
  | { kind: 'message'; message: JsonObject; line: string }
  | { kind: 'error'; error: QmpProtocolError };

export interface JsonLineReaderOptions {
  /** Longest accepted line in bytes, without its line ending. Default 10 MiB. */
  maxLineBytes?: number | undefined;
}

const NEWLINE = 0x0a;
const PREVIEW_CHARS = 120;

const preview = (line: string): string =>
  line.length > PREVIEW_CHARS ? `${line.slice(0, PREVIEW_CHARS)}… (${line.length} chars)` : line;

/** Parses one line (without `\n`) into a framed item; blank lines yield nothing. */
export const parseJsonLine = (bytes: Buffer): FramedItem | undefined => {
  const line = bytes.toString('utf8').trim();
  if (line === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (cause) {
    return {
      kind: 'error',
      error: new QmpProtocolError(`received a line that is not valid JSON: ${preview(line)}`, { cause }),
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      kind: 'error',
      error: new QmpProtocolError(`received JSON that is not an object: ${preview(line)}`),
    };
  }
  return { kind: 'message', message: value as JsonObject, line };
};

/**
 * Splits a byte stream into JSON-object lines. Survives lines split across chunks and several lines in one
 * chunk; `\r\n` and `\n` both end a line. A line over the cap yields one error and is skipped up to its end.
 */
export class JsonLineReader {
  readonly maxLineBytes: number;
  #parts: Buffer[] = [];
  #partBytes = 0;
  // True while skipping the rest of an over-long line, so it is reported once, not once per chunk.
  #discarding = false;

  constructor(options: JsonLineReaderOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new QmpArgumentError(
        `Expected the \`maxLineBytes\` option to be a positive integer, got ${String(max)}`,
      );
    }
    this.maxLineBytes = max;
  }

  /** Bytes of an unfinished line held back until its newline arrives. */
  get bufferedBytes(): number {
    return this.#partBytes;
  }

  /** Feeds one chunk; returns every complete line's result in arrival order. */
  push(chunk: Buffer | string): FramedItem[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const items: FramedItem[] = [];
    let start = 0;
    while (start < bytes.length) {
      const end = bytes.indexOf(NEWLINE, start);
      if (end === -1) {
        this.#hold(bytes.subarray(start), items);
        break;
      }
      this.#finishLine(bytes.subarray(start, end), items);
      start = end + 1;
    }
    return items;
  }

  /** Signals end of stream: an unterminated trailing line is still parsed (a peer may omit the last newline). */
  end(): FramedItem[] {
    const items: FramedItem[] = [];
    if (this.#partBytes > 0 && !this.#discarding) this.#emit(Buffer.concat(this.#parts), items);
    this.#reset();
    return items;
  }

  #hold(rest: Buffer, items: FramedItem[]): void {
    if (this.#discarding) return;
    this.#parts.push(rest);
    this.#partBytes += rest.length;
    // +1 leaves room for a `\r` whose `\n` is still to come; the exact check happens at the newline.
    if (this.#partBytes > this.maxLineBytes + 1) {
      items.push({ kind: 'error', error: this.#overflow(this.#partBytes) });
      this.#reset();
      this.#discarding = true;
    }
  }

  #finishLine(tail: Buffer, items: FramedItem[]): void {
    if (this.#discarding) {
      this.#reset();
      return;
    }
    const total = this.#partBytes + tail.length;
    const line = this.#parts.length === 0 ? tail : Buffer.concat([...this.#parts, tail], total);
    this.#reset();
    // The cap counts content only, so a `\r` before the newline never tips a line over it.
    const contentBytes = line.at(-1) === 0x0d ? line.length - 1 : line.length;
    if (contentBytes > this.maxLineBytes) {
      items.push({ kind: 'error', error: this.#overflow(contentBytes) });
      return;
    }
    this.#emit(line, items);
  }

  #emit(line: Buffer, items: FramedItem[]): void {
    const item = parseJsonLine(line);
    if (item !== undefined) items.push(item);
  }

  #overflow(bytes: number): QmpProtocolError {
    return new QmpProtocolError(
      `received a line longer than ${this.maxLineBytes} bytes (at least ${bytes})`,
      {
        hint: 'the peer is not speaking line-delimited JSON, or raise maxLineBytes',
      },
    );
  }

  #reset(): void {
    this.#parts = [];
    this.#partBytes = 0;
    this.#discarding = false;
  }
}
