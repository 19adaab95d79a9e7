// The guest agent error tree: one QlaunchError subclass per way a qemu-guest-agent session can fail.

import { ErrorCode, QlaunchError, type QlaunchErrorOptions } from '../errors.js';

/** What to check first when the agent does not answer: most often it is simply not running (yet). */
export const AGENT_HINT =
  'is qemu-guest-agent installed and running in the guest? (one client at a time: is another one connected?)';

/** Base of every error thrown by `lib/qga/`; `instanceof QgaError` catches them all. */
export class QgaError extends QlaunchError {
  override name = 'QgaError';
}

/** The agent socket could not be opened: `path` and `errno` (e.g. `ENOENT`, `ECONNREFUSED`) say which and why. */
export class QgaConnectError extends QgaError {
  override name = 'QgaConnectError';
  readonly path: string;
  readonly errno: string | undefined;

  constructor(path: string, errno: string | undefined, message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_CONNECT, message, options);
    this.path = path;
    this.errno = errno;
  }
}

/** No answer (to the sync or a command) within the caller's timeout or deadline. */
export class QgaTimeoutError extends QgaError {
  override name = 'QgaTimeoutError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_TIMEOUT, message, options);
  }
}

/** The caller's AbortSignal fired; `cause` is the signal's reason. */
export class QgaAbortedError extends QgaError {
  override name = 'QgaAbortedError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_ABORTED, message, options);
  }
}

export interface QgaCommandErrorDetails {
  command: string;
  /** QAPI error class, e.g. `GenericError`, `CommandNotFound`. */
  errorClass: string;
  /** The agent's human-readable description; not meant to be parsed. */
  desc: string;
}

export interface QgaCommandErrorOptions extends QlaunchErrorOptions {
  /** Replaces the default message, e.g. to name the program `guest-exec` could not start. */
  message?: string | undefined;
}

/** The agent answered a command with `{"error": {"class", "desc"}}`. */
export class QgaCommandError extends QgaError {
  override name = 'QgaCommandError';
  readonly command: string;
  readonly errorClass: string;
  readonly desc: string;

  constructor(details: QgaCommandErrorDetails, options: QgaCommandErrorOptions = {}) {
    const { message, ...rest } = options;
    super(
      ErrorCode.QGA_EXECUTE,
      message ?? `guest agent command ${details.command} failed: ${details.errorClass}: ${details.desc}`,
      {
        hint:
          details.errorClass === 'CommandNotFound'
            ? 'this guest agent does not know the command (too old, or disabled by its --block-rpcs)'
            : undefined,
        ...rest,
      },
    );
    this.command = details.command;
    this.errorClass = details.errorClass;
    this.desc = details.desc;
  }
}

/** The session ended (agent socket closed, QEMU exited, `close()`) before the operation finished. */
export class QgaClosedError extends QgaError {
  override name = 'QgaClosedError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_CLOSED, message, options);
  }
}

/** The agent broke the protocol: bad JSON, an over-long line, a reply of the wrong shape. */
export class QgaProtocolError extends QgaError {
  override name = 'QgaProtocolError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_PROTOCOL, message, options);
  }
}

/** The caller passed an option or argument the client cannot use (empty argv, bad timeout, NUL in a string). */
export class QgaArgumentError extends QgaError {
  override name = 'QgaArgumentError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QGA_ARGUMENT, message, options);
  }
}
