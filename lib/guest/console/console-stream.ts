// The serial console as a byte stream that cannot grow without bound: output nobody reads is dropped oldest first,
// and the reader finds a line saying how much went missing where it did.

import { Readable } from 'node:stream';

/** The line a reader sees where `bytes` of console output were dropped because the stream was not read. */
export const gapLine = (bytes: number): string =>
  `\n-- qlaunch: ${bytes} bytes of console output dropped here: the stream was not read --\n`;

export class ConsoleStream extends Readable {
  readonly #cap: number;
  #queue: Buffer[] = [];
  #queued = 0;
  /** Bytes dropped since the reader last got data; told as a gap line before the next data. */
  #gap = 0;
  #dropped = 0;
  #wanted = false;
  #ending = false;

  /** Holds at most `cap` unread bytes (its own queue plus what Readable buffers), dropping the oldest beyond. */
  constructor(cap: number) {
    super();
    this.#cap = cap;
  }

  /** Bytes held for a reader that has not read them yet. */
  get buffered(): number {
    return this.#queued + this.readableLength;
  }

  /** Bytes dropped so far because nobody read them. */
  get dropped(): number {
    return this.#dropped;
  }

  offer(chunk: Buffer): void {
    if (this.#ending || chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    this.#trim();
    this.#flush();
  }

  /** No more output: the reader gets what is queued, then the end. */
  finish(): void {
    this.#ending = true;
    this.#flush();
  }

  override _read(): void {
    this.#wanted = true;
    this.#flush();
  }

  #trim(): void {
    let excess = this.buffered - this.#cap;
    while (excess > 0 && this.#queue.length > 0) {
      const oldest = this.#queue[0] as Buffer;
      const cut = Math.min(excess, oldest.length);
      if (cut === oldest.length) this.#queue.shift();
      else this.#queue[0] = oldest.subarray(cut);
      this.#queued -= cut;
      this.#gap += cut;
      this.#dropped += cut;
      excess -= cut;
    }
  }

  #flush(): void {
    while (this.#wanted && this.#queue.length > 0) {
      if (this.#gap > 0) {
        const gap = Buffer.from(gapLine(this.#gap));
        this.#gap = 0;
        this.#wanted = this.push(gap);
        continue;
      }
      const chunk = this.#queue.shift() as Buffer;
      this.#queued -= chunk.length;
      this.#wanted = this.push(chunk);
    }
    if (this.#ending && this.#queue.length === 0 && this.#wanted) {
      if (this.#gap > 0) this.push(Buffer.from(gapLine(this.#gap)));
      this.#gap = 0;
      this.push(null);
      this.#wanted = false;
    }
  }
}
