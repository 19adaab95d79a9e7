// Where a QmpClient stands: its state, the label its messages use, its log, and the `closed` promise.

import type { Logger } from '../logger.js';
import { QmpStateError } from './errors.js';
import type { QmpClientState } from './options.js';

type QmpLogLevel = 'trace' | 'debug' | 'warn';

const STATE_HINTS: Record<QmpClientState, string> = {
  idle: 'call connect() first',
  connecting: 'await connect() first',
  running: 'the client is already connected; close() it first',
  disconnecting: 'close() is in progress',
  closed: 'the session is over; create a new QmpClient',
};

export class RunState {
  /** Resolves once the session is over: with the reason, or undefined after `close()` / `destroy()`. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  readonly #logger: Logger | undefined;
  #resolveClosed!: (reason: Error | undefined) => void;
  state: QmpClientState = 'idle';
  /** The socket path, or the label of the stream, used in messages. */
  label = 'QMP';

  constructor(logger: Logger | undefined) {
    this.#logger = logger;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Throws QMP_STATE, with a hint at what to do, unless the client is in one of the `allowed` states. */
  require(what: string, allowed: readonly QmpClientState[]): void {
    if (allowed.includes(this.state)) return;
    throw new QmpStateError(`${what} is not allowed while the QMP client is ${this.state}`, {
      hint: STATE_HINTS[this.state],
    });
  }

  /** Settles `closed`; the caller has already moved the state to `closed`. */
  finish(reason: Error | undefined): void {
    this.#resolveClosed(reason);
  }

  log(level: QmpLogLevel, fields: Record<string, unknown>, message: string): void {
    this.#logger?.[level]({ qmp: this.label, ...fields }, message);
  }
}
