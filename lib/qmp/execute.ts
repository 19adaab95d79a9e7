// Command execution: checks a call, gives it an id, arms its deadline, and settles it from the reply with that id.

import { armDeadline, checkSignal, checkTimeout, expiryError } from './deadline.js';
import { QmpArgumentError, QmpClosedError } from './errors.js';
import { encodeCommand, type QmpReply } from './messages.js';
import type { QmpExecuteOptions } from './options.js';
import { type PendingCommand, PendingCommands } from './pending.js';
import type { RunState } from './run-state.js';

const formatId = (n: number): string => `__qmp#${String(n).padStart(5, '0')}`;

export class CommandRunner {
  readonly #run: RunState;
  readonly #commandTimeout: number;
  readonly #send: (line: string) => void;
  readonly #pending = new PendingCommands();
  #nextId = 1;

  constructor(run: RunState, commandTimeout: number, send: (line: string) => void) {
    this.#run = run;
    this.#commandTimeout = commandTimeout;
    this.#send = send;
  }

  /** Commands sent and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends one command (the caller has checked the client is running) and resolves with its `return` value. */
  run(name: string, args: Record<string, unknown> | undefined, options: QmpExecuteOptions, oob: boolean) {
    const label = this.#run.label;
    let line: string;
    let id: string;
    let timeout: number;
    let signal: AbortSignal | undefined;
    try {
      if (typeof name !== 'string' || name === '') {
        throw new QmpArgumentError(`Expected a QMP command name, got ${JSON.stringify(name)}`);
      }
      timeout = checkTimeout(options.timeout ?? this.#commandTimeout, 'timeout');
      signal = checkSignal(options.signal);
      if (options.oob && !oob) {
        const message = `cannot run ${name} out-of-band: ${label} did not offer the oob capability`;
        throw new QmpArgumentError(message, {
          hint: 'drop { oob: true }; this QEMU runs commands in order only',
        });
      }
      id = formatId(this.#nextId);
      line = encodeCommand({ name, args, id, oob: options.oob });
      if (signal?.aborted) {
        throw expiryError(`QMP command ${name}`, label, { kind: 'abort', reason: signal.reason });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const entry: PendingCommand = { id, command: name, resolve, reject, disarm: () => {} };
      this.#pending.add(entry);
      entry.disarm = armDeadline({ timeout, signal }, (expiry) => {
        // The command may still run in QEMU; its late reply is then dropped quietly.
        if (this.#pending.abandon(id)) reject(expiryError(`QMP command ${name}`, this.#run.label, expiry));
      });
      this.#send(line);
    });
  }

  /** Hands a reply with an id to its command; a late or unknown one is logged and dropped. */
  settle(reply: QmpReply): void {
    const outcome = this.#pending.settle(reply);
    if (outcome === 'late') this.#run.log('debug', { id: reply.id }, 'dropping a late reply');
    if (outcome === 'unknown') this.#run.log('warn', { id: reply.id }, 'dropping a reply with an unknown id');
  }

  /** Resolves once no command is pending. */
  drained(): Promise<void> {
    return this.#pending.drained();
  }

  /** Fails every pending command with QMP_CLOSED, naming why the connection ended. */
  failAll(why: string, reason: Error | undefined): void {
    const label = this.#run.label;
    this.#pending.failAll(
      (entry) =>
        new QmpClosedError(`the connection to ${label} closed while ${entry.command} was pending (${why})`, {
          cause: reason,
        }),
    );
  }
}
