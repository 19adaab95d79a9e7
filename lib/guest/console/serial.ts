// A guest's serial console as seen from the host: a byte stream, a bounded text history, and waits for patterns.

import type { Socket } from 'node:net';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { ConsoleStream } from './console-stream.js';

export interface WaitForSerialOptions {
  /** Milliseconds; undefined waits until the console ends. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Offset in the console text to search from (see `length`); default 0, so earlier output counts too. */
  since?: number | undefined;
}

export interface SerialMatch {
  /** The matched text. */
  text: string;
  /** Offset just after the match, usable as the next `since`. */
  end: number;
  groups: string[];
}

interface Waiter {
  pattern: RegExp;
  since: number;
  resolve: (match: SerialMatch) => void;
  reject: (error: Error) => void;
}

const DEFAULT_HISTORY = 4 * 1024 * 1024;

/** Console output split into lines, with the trailing partial line kept. */
export const lastLines = (text: string, count: number): string =>
  text
    .replace(/\r/g, '')
    .split('\n')
    .slice(-count - 1)
    .join('\n')
    .trimEnd();

export class SerialConsole {
  /**
   * The bytes the guest writes, for piping (e.g. to stdout or a log file). Unread bytes are held up to the history
   * cap (4 MiB by default); beyond it the oldest are dropped, and the reader gets a line saying how many, where.
   */
  readonly stream: ConsoleStream;
  #text = '';
  /** How many characters were dropped from the front of #text to stay within the history cap. */
  #dropped = 0;
  #waiters = new Set<Waiter>();
  #ended: Error | undefined;
  readonly #history: number;

  /** `history`: how much console text is kept for waits and tails, and how many unread bytes `stream` holds. */
  constructor(options: { history?: number } = {}) {
    this.#history = options.history ?? DEFAULT_HISTORY;
    this.stream = new ConsoleStream(this.#history);
  }

  /** Feed from a connected chardev socket; the owner calls `end()` when QEMU exits, with the reason. */
  attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.push(chunk));
    socket.on('error', () => {}); // QEMU going away closes the socket; its exit status says why
  }

  push(chunk: Buffer): void {
    this.stream.offer(chunk);
    this.#text += chunk.toString('utf8');
    if (this.#text.length > this.#history) {
      const cut = this.#text.length - this.#history;
      this.#text = this.#text.slice(cut);
      this.#dropped += cut;
    }
    for (const waiter of this.#waiters) this.#check(waiter);
  }

  /** Total characters seen so far: a `since` cursor for the next wait. */
  get length(): number {
    return this.#dropped + this.#text.length;
  }

  /** The retained console text (the last few MiB). */
  text(): string {
    return this.#text;
  }

  tail(lines = 20): string {
    return lastLines(this.#text, lines);
  }

  /** Wait until the console shows `pattern` (a string is matched literally). */
  waitFor(pattern: string | RegExp, options: WaitForSerialOptions = {}): Promise<SerialMatch> {
    const regex =
      typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return new Promise<SerialMatch>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () =>
        finish(
          new QlaunchError(ErrorCode.VM_TIMEOUT, `waiting for ${regex} on the serial console was aborted`),
        );
      const finish = (result: SerialMatch | Error) => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const waiter: Waiter = { pattern: regex, since: options.since ?? 0, resolve: finish, reject: finish };
      if (options.signal?.aborted) return onAbort();
      if (this.#check(waiter)) return;
      if (this.#ended) return finish(this.#ended);
      this.#waiters.add(waiter);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeout !== undefined) {
        timer = setTimeout(() => {
          finish(
            new QlaunchError(
              ErrorCode.VM_TIMEOUT,
              `the serial console did not show ${regex} within ${options.timeout} ms; last lines:\n${this.tail(15)}`,
              { hint: 'raise the timeout (TCG guests boot slower than KVM ones) or check the pattern' },
            ),
          );
        }, options.timeout);
      }
    });
  }

  /** No more output will come: fail every wait with `reason` (or a generic "console closed"). */
  end(reason?: Error): void {
    if (this.#ended) return;
    this.#ended =
      reason ??
      new QlaunchError(ErrorCode.VM_EXITED, `the serial console closed; last lines:\n${this.tail(15)}`);
    this.stream.finish();
    for (const waiter of this.#waiters) waiter.reject(this.#ended);
  }

  #check(waiter: Waiter): boolean {
    const from = Math.max(0, waiter.since - this.#dropped);
    const match = waiter.pattern.exec(this.#text.slice(from));
    if (!match) return false;
    waiter.resolve({
      text: match[0],
      end: this.#dropped + from + match.index + match[0].length,
      groups: match.slice(1),
    });
    return true;
  }
}
