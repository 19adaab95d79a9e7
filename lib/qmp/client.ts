// QmpClient: one QMP session over a unix socket or stream; it wires its connection, commands and events.

import type { QmpCommandName, QmpCommandResult, QmpEventMap } from './commands.js';
import { Connection } from './connection.js';
import { checkSignal, checkTimeout } from './deadline.js';
import { QmpClosedError, QmpProtocolError } from './errors.js';
import { QmpEventHub, type QmpEventListener, type QmpEventSelector, waitForEvent } from './events.js';
import { CommandRunner } from './execute.js';
import { JsonLineReader, type JsonObject } from './framing.js';
import { classifyMessage, type QmpEvent, type QmpGreeting } from './messages.js';
import type {
  ExecuteRest,
  QmpClientOptions,
  QmpClientState,
  QmpConnectOptions,
  QmpExecuteOptions,
  QmpTypedEvent,
  QmpWaitForOptions,
} from './options.js';
import { RunState } from './run-state.js';
import { checkTarget, type QmpTarget } from './socket.js';

export class QmpClient {
  /** Resolves once the session is over: with the reason, or undefined after `close()` / `destroy()`. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  readonly #run: RunState;
  readonly #connectTimeout: number;
  readonly #commands: CommandRunner;
  readonly #connection: Connection;
  readonly #hub: QmpEventHub;
  #greeting: QmpGreeting | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: QmpClientOptions = {}) {
    this.#run = new RunState(options.logger);
    this.#connectTimeout = checkTimeout(options.connectTimeout ?? 10_000, 'connectTimeout');
    const commandTimeout = checkTimeout(options.commandTimeout ?? 60_000, 'commandTimeout');
    const maxLineBytes = new JsonLineReader({ maxLineBytes: options.maxLineBytes }).maxLineBytes; // validates now
    this.#hub = new QmpEventHub(options.eventHistory);
    this.#connection = new Connection(this.#run, maxLineBytes, {
      onRunning: (greeting) => {
        this.#greeting = greeting;
        this.#run.state = 'running';
        this.#run.log('debug', { oob: this.oobEnabled }, 'session running');
      },
      onConnectFailed: () => {
        this.#run.state = 'idle';
      },
      onEvent: (event) => this.#hub.dispatch(event),
      onMessage: (message) => this.#onMessage(message),
      onEnd: (reason) => this.#teardown(reason, reason.message),
    });
    this.#commands = new CommandRunner(this.#run, commandTimeout, (line) => this.#connection.send(line));
    this.closed = this.#run.closed;
  }

  get state(): QmpClientState {
    return this.#run.state;
  }

  /** The greeting of the current session, once negotiated. */
  get greeting(): QmpGreeting | undefined {
    return this.#greeting;
  }

  /** True when `oob` was negotiated, so `execute(…, { oob: true })` is allowed. */
  get oobEnabled(): boolean {
    return this.#greeting?.capabilities.includes('oob') ?? false;
  }

  /** The socket path, or the label of the stream, used in messages. */
  get label(): string {
    return this.#run.label;
  }

  /**
   * Opens the session: connects (fails fast, no retry), reads the greeting, negotiates capabilities.
   * A failed connect returns the client to `idle`, so it may be retried; a stream target is destroyed.
   */
  connect(target: QmpTarget, options: QmpConnectOptions = {}): Promise<QmpGreeting> {
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      this.#run.require('connect()', ['idle']);
      checkTarget(target);
      timeout = checkTimeout(options.timeout ?? this.#connectTimeout, 'timeout');
      signal = checkSignal(options.signal);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#run.label = typeof target === 'string' ? target : (options.label ?? 'QMP stream');
    this.#run.state = 'connecting';
    this.#run.log('debug', {}, 'connecting');
    return this.#connection.open(target, { timeout, signal });
  }

  /** Runs a command and resolves with its `return` value; ids are assigned, replies routed by id. */
  execute<K extends QmpCommandName>(name: K, ...rest: ExecuteRest<K>): Promise<QmpCommandResult<K>>;
  execute<N extends string>(
    name: N extends QmpCommandName ? never : N,
    args?: Record<string, unknown>,
    options?: QmpExecuteOptions,
  ): Promise<unknown>;
  execute(name: string, args?: Record<string, unknown>, options: QmpExecuteOptions = {}): Promise<unknown> {
    try {
      this.#run.require(`execute(${name})`, ['running']);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#commands.run(name, args, options, this.oobEnabled);
  }

  /** Sequence number of the next event. Race-free: `c = eventCursor(); await execute(…); await waitFor(E, { since: c })`. */
  eventCursor(): number {
    return this.#hub.cursor();
  }

  /** Events received so far that are still in history, optionally only those since a cursor. */
  recentEvents(since = 0): QmpEvent[] {
    return this.#hub.since(since);
  }

  /** An async iterator with its own queue; ends when the session ends or on `return()` (`break`). */
  events(selector: QmpEventSelector = {}): QmpEventListener {
    return this.#hub.listen(selector);
  }

  /** Resolves with the first matching event; rejects with QMP_TIMEOUT, QMP_ABORTED or QMP_CLOSED. */
  waitFor<K extends keyof QmpEventMap>(
    name: K,
    options?: QmpWaitForOptions<QmpTypedEvent<K>>,
  ): Promise<QmpTypedEvent<K>>;
  waitFor(name: string, options?: QmpWaitForOptions): Promise<QmpEvent>;
  waitFor(name: string, options: QmpWaitForOptions = {}): Promise<QmpEvent> {
    if (options.since !== undefined && options.since < this.#hub.oldestCursor()) {
      this.#run.log('debug', { since: options.since }, 'event history no longer reaches back to the cursor');
    }
    return waitForEvent(this.#hub, name, options, () => this.#run.label);
  }

  /** Waits for pending commands (no new ones accepted), then ends the connection. Idempotent; never rejects. */
  close(): Promise<void> {
    if (this.#run.state === 'disconnecting') return this.#closing ?? Promise.resolve();
    if (this.#run.state !== 'running') {
      this.destroy();
      return Promise.resolve();
    }
    this.#run.state = 'disconnecting';
    this.#run.log('debug', { pending: this.#commands.pending }, 'closing after pending commands');
    this.#closing = this.#commands
      .drained()
      .then(() => this.#teardown(undefined, 'close() was called', true));
    return this.#closing;
  }

  /** Ends the session at once: pending commands fail with QMP_CLOSED, `closed` resolves with `error`. Idempotent. */
  destroy(error?: Error): void {
    const why =
      error === undefined ? 'the client was destroyed' : `the client was destroyed: ${error.message}`;
    this.#connection.failConnect(
      new QmpClosedError(`the client was closed while connecting to ${this.#run.label}`, { cause: error }),
    );
    this.#teardown(error, why);
  }

  #onMessage(message: JsonObject): void {
    const incoming = classifyMessage(message);
    if (incoming === undefined) {
      this.#run.log('warn', { message }, 'ignoring a message that is neither an event nor a reply');
    } else if (incoming.kind === 'event') {
      this.#run.log('debug', { event: incoming.event.event }, 'event');
      this.#hub.dispatch(incoming.event);
    } else if (incoming.kind !== 'return' && !incoming.hasId) {
      // The spec's id-less error means QEMU could not parse a command; which one is unknowable, so stop.
      const detail = incoming.kind === 'error' ? `${incoming.errorClass}: ${incoming.desc}` : incoming.reason;
      const text = `${this.#run.label} sent an error without id (it could not parse input): ${detail}`;
      const error = new QmpProtocolError(text);
      this.#teardown(error, error.message);
    } else {
      this.#commands.settle(incoming);
    }
  }

  #teardown(reason: Error | undefined, why: string, graceful = false): void {
    if (this.#run.state === 'closed') return;
    this.#run.state = 'closed';
    this.#commands.failAll(why, reason);
    this.#hub.end();
    this.#connection.drop(graceful);
    this.#run.log('debug', { why }, 'session closed');
    this.#run.finish(reason);
  }
}
