// Option checks and expiry errors for the guest agent; the timer itself is QMP's armDeadline, reused as is.

import { type DeadlineExpiry, optionCheckers } from '../qmp/deadline.js';
import { AGENT_HINT, QgaAbortedError, QgaArgumentError, type QgaError, QgaTimeoutError } from './errors.js';

export { armDeadline, type DeadlineExpiry, type DeadlineOptions } from '../qmp/deadline.js';

export const { checkTimeout, checkSignal } = optionCheckers((message) => new QgaArgumentError(message));

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
