// Timeout and AbortSignal handling shared by connect(), execute() and waitFor(): validate, arm, disarm.

import { QmpAbortedError, QmpArgumentError, type QmpError, QmpTimeoutError } from './errors.js';

export interface DeadlineOptions {
  /** Milliseconds; `Infinity` waits forever. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export type DeadlineExpiry = { kind: 'timeout'; timeout: number } | { kind: 'abort'; reason: unknown };

// setTimeout fires after 1 ms for longer delays, so anything past this means "no timer".
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Option checkers that throw the client's own argument error (QMP_ARGUMENT, QGA_ARGUMENT) naming the option. */
export const optionCheckers = (argumentError: (message: string) => Error) => ({
  /** Returns the timeout if it is a positive number (or Infinity). */
  checkTimeout: (value: unknown, option: string): number => {
    if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
      throw argumentError(
        `Expected the \`${option}\` option to be a positive number of milliseconds or Infinity, got ${String(value)}`,
      );
    }
    return value;
  },
  /** Returns the signal if it is an AbortSignal (or undefined). */
  checkSignal: (value: unknown): AbortSignal | undefined => {
    if (value === undefined || value instanceof AbortSignal) return value;
    throw argumentError(`Expected the \`signal\` option to be an AbortSignal, got ${typeof value}`);
  },
});

export const { checkTimeout, checkSignal } = optionCheckers((message) => new QmpArgumentError(message));

/**
 * Calls `onExpire` at most once, when the timeout elapses or the signal aborts (at once if already aborted).
 * Returns the disarm function; call it as soon as the guarded operation settles.
 */
export const armDeadline = (
  { timeout, signal }: DeadlineOptions,
  onExpire: (expiry: DeadlineExpiry) => void,
): (() => void) => {
  let timer: NodeJS.Timeout | undefined;
  const disarm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => {
    disarm();
    onExpire({ kind: 'abort', reason: signal?.reason });
  };
  if (signal?.aborted) {
    onExpire({ kind: 'abort', reason: signal.reason });
    return () => {};
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  if (timeout !== undefined && timeout <= MAX_TIMER_MS) {
    timer = setTimeout(() => {
      disarm();
      onExpire({ kind: 'timeout', timeout });
    }, timeout);
  }
  return disarm;
};

/** The error for an operation that expired: QMP_TIMEOUT naming the peer, or QMP_ABORTED with the signal's reason. */
export const expiryError = (what: string, peer: string, expiry: DeadlineExpiry): QmpError => {
  if (expiry.kind === 'abort') return new QmpAbortedError(`${what} was aborted`, { cause: expiry.reason });
  return new QmpTimeoutError(`${what}: no answer from ${peer} within ${expiry.timeout} ms`, {
    hint: 'QEMU may be busy or stuck; raise the timeout or check the VM',
  });
};
