// Option checks and expiry errors for the guest agent; the timer itself is QMP's armDeadline, reused as is.

import type { DeadlineExpiry } from '../qmp/deadline.js';
import { AGENT_HINT, QgaAbortedError, QgaArgumentError, type QgaError, QgaTimeoutError } from './errors.js';

export { armDeadline, type DeadlineExpiry } from '../qmp/deadline.js';

/** Returns the timeout if it is a positive number (or Infinity); throws QGA_ARGUMENT naming the option. */
export const checkTimeout = (value: unknown, option: string): number => {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new QgaArgumentError(
      `Expected the \`${option}\` option to be a positive number of milliseconds or Infinity, got ${String(value)}`,
    );
  }
  return value;
};

/** Returns the signal if it is an AbortSignal (or undefined); throws QGA_ARGUMENT otherwise. */
export const checkSignal = (value: unknown): AbortSignal | undefined => {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new QgaArgumentError(`Expected the \`signal\` option to be an AbortSignal, got ${typeof value}`);
};

/** The error for an operation that expired: QGA_TIMEOUT naming the agent, or QGA_ABORTED with the signal's reason. */
export const expiryError = (
  what: string,
  peer: string,
  expiry: DeadlineExpiry,
  hint: string = AGENT_HINT,
): QgaError => {
  if (expiry.kind === 'abort') return new QgaAbortedError(`${what} was aborted`, { cause: expiry.reason });
  return new QgaTimeoutError(
    `${what}: no answer from the guest agent at ${peer} within ${expiry.timeout} ms`,
    {
      hint,
    },
  );
};
