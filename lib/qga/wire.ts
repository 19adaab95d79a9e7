// The wire of an agent session: bytes out, items in, and the one waiter the next answer is for.

import type { Duplex } from 'node:stream';
import type { Logger } from '../logger.js';
import type { JsonObject } from '../qmp/framing.js';
import { AGENT_HINT, QgaClosedError, QgaProtocolError } from './errors.js';
import { type AgentReply, replyError, replyFor } from './messages.js';
import { type AgentItem, AgentStreamReader } from './stream.js';
import { newSyncWaiter, type SyncWaiter, syncStep, type Unanswered } from './sync.js';
import type { Turn } from './turns.js';

export interface AgentSessionOptions {
  /** Names the agent in messages: the socket path. */
  label: string;
  maxLineBytes?: number | undefined;
  logger?: Logger | undefined;
  /** First wait before the sync is sent again (it doubles up to 8 s); an agent that is not up yet misses it. */
  syncRetry?: number | undefined;
}

interface RequestWaiter {
  kind: 'request';
  id: string;
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

type Waiter = SyncWaiter | RequestWaiter;

export class AgentWire {
  readonly #label: string;
  /** Resolves once the session is over: with the reason, or undefined after `destroy()` without one. */
  readonly closed: Promise<Error | undefined>;
  readonly #stream: Duplex;
  readonly #reader: AgentStreamReader;
  readonly #logger: Logger | undefined;
  readonly #syncRetry: number;
  #resolveClosed!: (reason: Error | undefined) => void;
  #waiter: Waiter | undefined;
  #synced = false;
  #open = true;

  constructor(stream: Duplex, options: AgentSessionOptions) {
    this.#label = options.label;
    this.#stream = stream;
    this.#reader = new AgentStreamReader(options.maxLineBytes);
    this.#logger = options.logger;
    this.#syncRetry = options.syncRetry ?? 1000;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    stream.on('data', (chunk: Buffer) => this.#receive(this.#reader.push(chunk)));
    stream.on('end', () => {
      this.#receive(this.#reader.end());
      this.end(new QgaClosedError(`the guest agent socket ${this.#label} was closed by QEMU`));
    });
    stream.on('close', () => this.end(new QgaClosedError(`the guest agent socket ${this.#label} closed`)));
    stream.on('error', (error: NodeJS.ErrnoException) => {
      const how = error.code === undefined ? error.message : error.code;
      this.end(new QgaClosedError(`the guest agent socket ${this.#label} failed (${how})`, { cause: error }));
    });
  }

  /** False once the session ended. */
  get open(): boolean {
    return this.#open;
  }

  /** True while nothing stale can be in the stream: after a sync, until a timeout, garbage or a stray message. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Waits on a sync for this turn; `unanswered` is the command written just before it, if any. */
  sync(turn: Turn, unanswered: Unanswered | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter = newSyncWaiter(unanswered, resolve, reject, {
        retry: this.#syncRetry,
        current: (waiter) => this.#waiter === waiter,
        write: (data) => this.write(data),
        log: (fields, message) => this.#log('debug', fields, message),
      });
      this.#install(turn, waiter);
      waiter.send();
    });
  }

  /** Sends one request line and resolves with its reply's `return` value. */
  answer(turn: Turn, id: string, command: string, line: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#install(turn, { kind: 'request', id, command, resolve, reject, cleanup: () => {} });
      this.write(line);
    });
  }

  /** Writes unless the session ended. */
  write(data: string | Buffer): void {
    if (!this.#open) return;
    this.#log('trace', { line: data.toString('latin1').trimEnd() }, 'sending');
    this.#stream.write(data);
  }

  /** Ends the session once: the waiter fails (or, for an unanswered command the peer hung up on, succeeds). */
  end(
    reason: Error,
    { closedWith, byPeer }: { closedWith: Error | undefined; byPeer: boolean } = {
      closedWith: reason,
      byPeer: true,
    },
  ): void {
    if (!this.#open) return;
    this.#open = false;
    this.#synced = false;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      const what = waiter.kind === 'sync' ? 'guest-sync-delimited' : waiter.command;
      const error =
        reason instanceof QgaClosedError
          ? new QgaClosedError(`${reason.message} while ${what} was pending`, {
              hint: AGENT_HINT,
              cause: reason.cause,
            })
          : reason;
      // A command that answers only on failure (guest-shutdown) has succeeded when the guest hangs up.
      if (
        byPeer &&
        waiter.kind === 'sync' &&
        waiter.unanswered !== undefined &&
        waiter.unanswered.reply === undefined
      ) {
        this.#settle(waiter, () => waiter.resolve());
      } else {
        this.#settle(waiter, () => waiter.reject(error));
      }
    }
    this.#stream.on('error', () => {}); // errors raised while the stream is torn down have nobody left to tell
    this.#stream.destroy();
    this.#log('debug', { why: reason.message }, 'session closed');
    this.#resolveClosed(closedWith);
  }

  #install(turn: Turn, waiter: Waiter): void {
    // The deadline may pass between two steps of one operation: then nothing more goes on the wire.
    if (turn.done) throw new QgaClosedError('the operation is over');
    this.#waiter = waiter;
    turn.cancel = (error) => {
      if (this.#waiter !== waiter) return;
      // The agent may still answer; that late reply must not pass for the next request's.
      this.#synced = false;
      this.#settle(waiter, () => waiter.reject(error));
    };
  }

  #settle(waiter: Waiter, settle: () => void): void {
    if (this.#waiter === waiter) this.#waiter = undefined;
    waiter.cleanup();
    settle();
  }

  #receive(items: AgentItem[]): void {
    for (const item of items) {
      if (!this.#open) return;
      if (item.kind === 'sentinel') {
        this.#log('trace', {}, 'received sentinel');
      } else if (item.kind === 'error') {
        this.#onGarbage(item.error);
      } else {
        this.#log('trace', { line: item.line }, 'received');
        this.#onMessage(item.message);
      }
    }
  }

  #onGarbage(error: QgaProtocolError): void {
    const waiter = this.#waiter;
    // While syncing, garbage is what an earlier client left behind: the sync skips it by design.
    if (waiter?.kind === 'sync') return;
    this.#synced = false;
    if (waiter === undefined) {
      this.#log('warn', { error: error.message }, 'garbage from the agent between requests');
      return;
    }
    const message = `${error.message} (while waiting for the reply to ${waiter.command})`;
    this.#settle(waiter, () =>
      waiter.reject(new QgaProtocolError(message, { hint: error.hint, cause: error })),
    );
  }

  #onMessage(message: JsonObject): void {
    const waiter = this.#waiter;
    if (waiter?.kind === 'sync') {
      this.#onSyncMessage(waiter, message);
    } else if (waiter?.kind === 'request') {
      const reply = replyFor(message, waiter.id);
      if (reply === undefined) {
        this.#log('debug', { message }, 'ignoring a message that is not the reply');
        return;
      }
      this.#settle(waiter, () => this.#deliver(waiter, reply));
    } else {
      this.#synced = false;
      this.#log('debug', { message }, 'ignoring a message nobody waits for');
    }
  }

  #onSyncMessage(waiter: SyncWaiter, message: JsonObject): void {
    const synced = syncStep(waiter, message);
    if (synced === undefined) return;
    this.#synced = true;
    this.#log('debug', { id: synced.id }, 'synced');
    const { error } = synced;
    this.#settle(waiter, () => (error === undefined ? waiter.resolve() : waiter.reject(error)));
  }

  #deliver(waiter: RequestWaiter, reply: AgentReply): void {
    if (reply.kind === 'return') waiter.resolve(reply.value);
    else waiter.reject(replyError(waiter.command, reply));
  }

  #log(level: 'trace' | 'debug' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.#logger?.[level]({ qga: this.#label, ...fields }, message);
  }
}
