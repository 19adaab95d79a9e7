// A JSON-lines connection over a Duplex: framed objects in, batched lines out, one `onEnd` when it stops.

import type { Duplex } from 'node:stream';
import { QmpClosedError, type QmpError } from './errors.js';
import { type FramedItem, JsonLineReader, type JsonObject } from './framing.js';

export interface LineTransportHandlers {
  /** One parsed object, in arrival order; not called any more once the transport has ended. */
  onMessage: (message: JsonObject, line: string) => void;
  /** Called once when the peer hangs up, the stream fails or a line is not JSON; not called after `close()`. */
  onEnd: (reason: QmpError) => void;
}

export class LineTransport {
  readonly label: string;
  readonly #stream: Duplex;
  readonly #reader: JsonLineReader;
  readonly #handlers: LineTransportHandlers;
  readonly #detach: () => void;
  #outbox: string[] = [];
  #open = true;

  constructor(stream: Duplex, label: string, maxLineBytes: number, handlers: LineTransportHandlers) {
    this.#stream = stream;
    this.label = label;
    this.#reader = new JsonLineReader({ maxLineBytes });
    this.#handlers = handlers;
    const onData = (chunk: Buffer | string): void => this.#receive(this.#reader.push(chunk));
    const onEnd = (): void => {
      this.#receive(this.#reader.end());
      this.#gone(undefined);
    };
    const onClose = (): void => this.#gone(undefined);
    const onError = (error: Error): void => this.#gone(error);
    stream.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onError);
    this.#detach = () => {
      stream.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
      stream.on('error', () => {}); // errors raised while the stream is torn down have nobody left to tell
    };
  }

  get open(): boolean {
    return this.#open;
  }

  /** Queues one line (with its newline); a tick's lines go out in one write. */
  send(line: string): void {
    if (!this.#open) return;
    this.#outbox.push(line);
    // Node destroys a socket on EPIPE unread, losing what QEMU sent before hanging up (a quit reply, SHUTDOWN):
    // so write after one more I/O poll, which reads such lines first.
    if (this.#outbox.length === 1) setImmediate(() => setImmediate(() => this.#flush()));
  }

  /** Stops without calling `onEnd`; `graceful` ends the stream first (nothing unsent is dropped by that). */
  close(graceful: boolean): void {
    if (!this.#open) return;
    if (graceful) this.#flush();
    this.#open = false;
    this.#outbox = [];
    this.#detach();
    if (graceful) this.#stream.end();
    this.#stream.destroy();
  }

  #flush(): void {
    if (this.#open && this.#outbox.length > 0) this.#stream.write(this.#outbox.splice(0).join(''));
  }

  #receive(items: FramedItem[]): void {
    for (const item of items) {
      if (!this.#open) return; // an earlier line ended the session
      if (item.kind === 'error') this.#end(item.error);
      else this.#handlers.onMessage(item.message, item.line);
    }
  }

  #gone(error: Error | undefined): void {
    if (!this.#open) return;
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    // QEMU exiting with our unread commands in its buffer resets the socket: still just "the peer went away".
    if (error === undefined || code === 'ECONNRESET' || code === 'EPIPE') {
      const how = code === undefined ? '' : ` (${code})`;
      this.#end(new QmpClosedError(`${this.label} closed the connection${how}`, { cause: error }));
    } else {
      const message = `the connection to ${this.label} failed: ${error.message}`;
      this.#end(new QmpClosedError(message, { cause: error }));
    }
  }

  #end(reason: QmpError): void {
    this.close(false);
    this.#handlers.onEnd(reason);
  }
}
