// One open agent connection: requests run one at a time, each after a sync when the stream may hold stale bytes.

import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { QgaClosedError } from './errors.js';
import { encodeRequest } from './messages.js';
import { type Turn, TurnQueue } from './turns.js';
import { type AgentSessionOptions, AgentWire } from './wire.js';

export interface OperationOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export class AgentSession {
  readonly label: string;
  /** Resolves once the session is over: with the reason, or undefined after `destroy()` without one. */
  readonly closed: Promise<Error | undefined>;
  readonly #wire: AgentWire;
  readonly #turns: TurnQueue;
  // Request ids are unique per session, so even a stale reply with an id cannot pass as ours.
  readonly #idPrefix = `qga-${randomBytes(3).toString('hex')}-`;
  #nextId = 1;

  constructor(stream: Duplex, options: AgentSessionOptions) {
    this.label = options.label;
    this.#wire = new AgentWire(stream, options);
    this.#turns = new TurnQueue(this.label);
    this.closed = this.#wire.closed;
  }

  /** Sends 0xFF + `guest-sync-delimited` (again, with a new id, until answered) and skips all else up to the reply. */
  sync(options: OperationOptions = {}): Promise<void> {
    return this.#enqueue('guest-sync-delimited', options, (turn) => this.#wire.sync(turn, undefined));
  }

  /** Runs one command and resolves with its `return` value; rejects with QGA_EXECUTE on an error reply. */
  request(command: string, args: Record<string, unknown> | undefined, options: OperationOptions = {}) {
    return this.#command(command, args, options, async (turn, id, line) => {
      if (!this.#wire.synced) await this.#wire.sync(turn, undefined);
      return this.#wire.answer(turn, id, command, line);
    });
  }

  /** Runs a command that sends no reply on success, then syncs: an error reply would arrive before the sync's. */
  requestUnanswered(
    command: string,
    args: Record<string, unknown> | undefined,
    options: OperationOptions = {},
  ): Promise<void> {
    return this.#command(command, args, options, async (turn, id, line) => {
      if (!this.#wire.synced) await this.#wire.sync(turn, undefined);
      if (turn.done) return;
      this.#wire.write(line);
      await this.#wire.sync(turn, { id, command });
    });
  }

  /** Ends the session at once; what waits fails with QGA_CLOSED. The socket is destroyed, never half-closed. */
  destroy(reason?: Error): void {
    this.#wire.end(reason ?? new QgaClosedError(`the guest agent session on ${this.label} was closed`), {
      closedWith: reason,
      byPeer: false,
    });
  }

  #command<T>(
    command: string,
    args: Record<string, unknown> | undefined,
    options: OperationOptions,
    work: (turn: Turn, id: string, line: string) => Promise<T>,
  ): Promise<T> {
    const id = `${this.#idPrefix}${this.#nextId}`;
    let line: string;
    try {
      line = encodeRequest(command, args, id);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#nextId++;
    return this.#enqueue(`guest agent command ${command}`, options, (turn) => work(turn, id, line));
  }

  #enqueue<T>(what: string, options: OperationOptions, work: (turn: Turn) => Promise<T>): Promise<T> {
    return this.#turns.run(what, options, (turn) => {
      if (!this.#wire.open) throw this.#closedError(what);
      return work(turn);
    });
  }

  #closedError(what: string): QgaClosedError {
    return new QgaClosedError(`${what}: the guest agent session on ${this.label} is closed`, {
      hint: 'connect again',
    });
  }
}
