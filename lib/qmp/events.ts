// QMP event fan-out: each listener owns a FIFO queue (no event lost between reads) plus a bounded history.

import { armDeadline, checkSignal, checkTimeout, expiryError } from './deadline.js';
import { QmpArgumentError, QmpClosedError } from './errors.js';
import type { QmpEvent } from './messages.js';
import type { QmpWaitForOptions } from './options.js';

export type QmpEventFilter = (event: QmpEvent) => boolean;

export interface QmpEventSelector {
  /** Only these event names (all events when omitted). */
  names?: string | readonly string[] | undefined;
  /** Secondary filter, called after the name check. A throwing filter fails its listener. */
  filter?: QmpEventFilter | undefined;
  /** Also deliver events already seen since this cursor (see `QmpClient.eventCursor()`), if still in history. */
  since?: number | undefined;
}

export const DEFAULT_EVENT_HISTORY = 256;

type Waiter = {
  resolve: (result: IteratorResult<QmpEvent, undefined>) => void;
  reject: (error: unknown) => void;
};

const DONE: IteratorResult<QmpEvent, undefined> = { done: true, value: undefined };

/** An async iterator over matching events; ends when the session ends or on `return()`. */
export class QmpEventListener implements AsyncIterableIterator<QmpEvent, undefined> {
  readonly #names: ReadonlySet<string> | undefined;
  readonly #filter: QmpEventFilter | undefined;
  readonly #detach: (listener: QmpEventListener) => void;
  #queue: QmpEvent[] = [];
  #waiters: Waiter[] = [];
  #ended = false;
  #failure: { error: unknown } | undefined;

  constructor(selector: QmpEventSelector, detach: (listener: QmpEventListener) => void) {
    const { names, filter } = selector;
    if (names !== undefined) {
      const list = typeof names === 'string' ? [names] : names;
      if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) {
        throw new QmpArgumentError('Expected the `names` option to be an event name or an array of them');
      }
      this.#names = new Set(list);
    }
    if (filter !== undefined && typeof filter !== 'function') {
      throw new QmpArgumentError(`Expected the \`filter\` option to be a function, got ${typeof filter}`);
    }
    this.#filter = filter;
    this.#detach = detach;
  }

  /** Events received but not yet read. */
  get queued(): number {
    return this.#queue.length;
  }

  /** True once no further events will be queued (session ended, listener closed or failed). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Offers one event; queued or handed to a waiting `next()` when it matches. */
  deliver(event: QmpEvent): void {
    if (this.#ended) return;
    if (this.#names !== undefined && !this.#names.has(event.event)) return;
    try {
      if (this.#filter !== undefined && !this.#filter(event)) return;
    } catch (error) {
      this.#fail(error);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#queue.push(event);
    else waiter.resolve({ done: false, value: event });
  }

  /** The session is over: queued events can still be read, then the iterator is done. */
  end(): void {
    this.#ended = true;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(DONE);
    this.#detach(this);
  }

  next(): Promise<IteratorResult<QmpEvent, undefined>> {
    const event = this.#queue.shift();
    if (event !== undefined) return Promise.resolve({ done: false, value: event });
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      this.#failure = undefined;
      return Promise.reject(error);
    }
    if (this.#ended) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops listening and drops queued events; what `for await … break` calls. */
  return(): Promise<IteratorResult<QmpEvent, undefined>> {
    this.#queue = [];
    this.#failure = undefined;
    this.end();
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #fail(error: unknown): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) this.#failure = { error };
    else waiter.reject(error);
    this.end();
  }
}

/** Keeps the history and the live listeners of one client; `dispatch` is called for every event received. */
export class QmpEventHub {
  readonly historySize: number;
  #history: Array<{ seq: number; event: QmpEvent }> = [];
  #nextSeq = 0;
  #listeners = new Set<QmpEventListener>();
  #ended = false;

  constructor(historySize = DEFAULT_EVENT_HISTORY) {
    if (!Number.isSafeInteger(historySize) || historySize < 0) {
      throw new QmpArgumentError(
        `Expected the \`eventHistory\` option to be a non-negative integer, got ${String(historySize)}`,
      );
    }
    this.historySize = historySize;
  }

  /** Sequence number the next event will get; pass it as `since` to also see events from now on. */
  cursor(): number {
    return this.#nextSeq;
  }

  /** Sequence number of the oldest event still in history (equals `cursor()` when history is empty). */
  oldestCursor(): number {
    return this.#history[0]?.seq ?? this.#nextSeq;
  }

  /** Events still in history with a sequence number at or after `since`, oldest first. */
  since(since: number): QmpEvent[] {
    return this.#history.filter((entry) => entry.seq >= since).map((entry) => entry.event);
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  dispatch(event: QmpEvent): void {
    this.#history.push({ seq: this.#nextSeq++, event });
    if (this.#history.length > this.historySize) this.#history.shift();
    for (const listener of [...this.#listeners]) listener.deliver(event);
  }

  /** A new listener, first fed from history when `since` is given; already ended if the hub has ended. */
  listen(selector: QmpEventSelector = {}): QmpEventListener {
    const { since } = selector;
    if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) {
      throw new QmpArgumentError(
        `Expected the \`since\` option to be a cursor from eventCursor(), got ${String(since)}`,
      );
    }
    const listener = new QmpEventListener(selector, (l) => this.#listeners.delete(l));
    if (since !== undefined) for (const event of this.since(since)) listener.deliver(event);
    if (this.#ended) listener.end();
    else if (!listener.ended) this.#listeners.add(listener);
    return listener;
  }

  /** No more events: every listener ends once its queue is read. */
  end(): void {
    this.#ended = true;
    for (const listener of [...this.#listeners]) listener.end();
  }
}

/** The first matching event, from history since `options.since` or live; QMP_TIMEOUT, QMP_ABORTED or QMP_CLOSED. */
export const waitForEvent = (
  hub: QmpEventHub,
  name: string,
  options: QmpWaitForOptions,
  peer: () => string,
): Promise<QmpEvent> => {
  let listener: QmpEventListener;
  let timeout: number;
  let signal: AbortSignal | undefined;
  try {
    timeout = checkTimeout(options.timeout ?? Number.POSITIVE_INFINITY, 'timeout');
    signal = checkSignal(options.signal);
    listener = hub.listen({
      names: [name],
      filter: options.filter as QmpEventFilter | undefined,
      since: options.since,
    });
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise((resolve, reject) => {
    const disarm = armDeadline({ timeout, signal }, (expiry) => {
      reject(expiryError(`waiting for event ${name}`, peer(), expiry));
      void listener.return();
    });
    listener.next().then(
      (result) => {
        disarm();
        void listener.return();
        if (!result.done) resolve(result.value);
        else reject(new QmpClosedError(`the connection to ${peer()} closed while waiting for event ${name}`));
      },
      (error: unknown) => {
        disarm();
        reject(error);
      },
    );
  });
};
