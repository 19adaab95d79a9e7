// The table of commands sent and not yet answered, keyed by QMP id, with drain and fail-all for shutdown.

import { QmpCommandError, QmpProtocolError } from './errors.js';
import type { QmpReply } from './messages.js';

export interface PendingCommand {
  id: string;
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Cancels the command's timeout and abort listener. */
  disarm: () => void;
}

// Ids of timed-out or aborted commands, so their late replies are dropped quietly; bounded against leaks.
const MAX_ABANDONED = 1024;

export class PendingCommands {
  #byId = new Map<string, PendingCommand>();
  #abandoned = new Set<string>();
  #drainWaiters: Array<() => void> = [];

  get size(): number {
    return this.#byId.size;
  }

  add(entry: PendingCommand): void {
    this.#byId.set(entry.id, entry);
  }

  /** Removes and returns the command answered by `id` (its deadline disarmed), if it is pending. */
  take(id: unknown): PendingCommand | undefined {
    if (typeof id !== 'string') return undefined;
    const entry = this.#byId.get(id);
    if (entry === undefined) return undefined;
    this.#remove(entry);
    return entry;
  }

  /** Removes a command the caller gave up on; a reply that still arrives for it counts as expected. */
  abandon(id: string): PendingCommand | undefined {
    const entry = this.take(id);
    if (entry === undefined) return undefined;
    this.#abandoned.add(id);
    if (this.#abandoned.size > MAX_ABANDONED)
      this.#abandoned.delete(this.#abandoned.values().next().value as string);
    return entry;
  }

  /** Hands a reply to its command: resolve, QMP_EXECUTE or (malformed) QMP_PROTOCOL. `late` = abandoned id. */
  settle(reply: QmpReply): 'settled' | 'late' | 'unknown' {
    const entry = this.take(reply.id);
    if (entry === undefined) return this.forgetAbandoned(reply.id) ? 'late' : 'unknown';
    const { command, id } = entry;
    if (reply.kind === 'return') entry.resolve(reply.value);
    else if (reply.kind === 'error') {
      entry.reject(new QmpCommandError({ command, errorClass: reply.errorClass, desc: reply.desc, id }));
    } else entry.reject(new QmpProtocolError(`the reply to ${command} is malformed: ${reply.reason}`));
    return 'settled';
  }

  /** True (once) if `id` belongs to a command that timed out or was aborted. */
  forgetAbandoned(id: unknown): boolean {
    return typeof id === 'string' && this.#abandoned.delete(id);
  }

  /** Rejects every pending command, each with its own error. */
  failAll(makeError: (entry: PendingCommand) => Error): void {
    for (const entry of [...this.#byId.values()]) {
      this.#remove(entry);
      entry.reject(makeError(entry));
    }
  }

  /** Resolves once no command is pending. */
  drained(): Promise<void> {
    if (this.#byId.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #remove(entry: PendingCommand): void {
    this.#byId.delete(entry.id);
    entry.disarm();
    if (this.#byId.size === 0) for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
