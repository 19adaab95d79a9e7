// The QMP error tree: one QlaunchError subclass per way a QMP session can fail, each with a stable code.

import { ErrorCode, QlaunchError, type QlaunchErrorOptions } from '../errors.js';

/** Base of every error thrown by `lib/qmp/`; `instanceof QmpError` catches them all. */
export class QmpError extends QlaunchError {
  override name = 'QmpError';
}

/** The socket could not be opened: `path` and `errno` (e.g. `ENOENT`, `ECONNREFUSED`) say which and why. */
export class QmpConnectError extends QmpError {
  override name = 'QmpConnectError';
  readonly path: string;
  readonly errno: string | undefined;

  constructor(path: string, errno: string | undefined, message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_CONNECT, message, options);
    this.path = path;
    this.errno = errno;
  }
}

/** The server sent no greeting, or one that is not a QMP greeting. */
export class QmpGreetingError extends QmpError {
  override name = 'QmpGreetingError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_GREETING, message, options);
  }
}

/** `qmp_capabilities` failed, so the session never reached command mode. */
export class QmpNegotiationError extends QmpError {
  override name = 'QmpNegotiationError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_NEGOTIATION, message, options);
  }
}

export interface QmpCommandErrorDetails {
  command: string;
  /** QMP error class, e.g. `GenericError`, `CommandNotFound`, `DeviceNotFound`. */
  errorClass: string;
  /** QEMU's human-readable description; not meant to be parsed. */
  desc: string;
  id: string;
}

/** The server answered a command with `{"error": {"class", "desc"}}`. */
export class QmpCommandError extends QmpError {
  override name = 'QmpCommandError';
  readonly command: string;
  readonly errorClass: string;
  readonly desc: string;
  readonly id: string;

  constructor(details: QmpCommandErrorDetails, options: QlaunchErrorOptions = {}) {
    super(
      ErrorCode.QMP_EXECUTE,
      `QMP command ${details.command} failed: ${details.errorClass}: ${details.desc}`,
      {
        hint: details.errorClass === 'CommandNotFound' ? 'this QEMU does not know the command' : undefined,
        ...options,
      },
    );
    this.command = details.command;
    this.errorClass = details.errorClass;
    this.desc = details.desc;
    this.id = details.id;
  }
}

/** The session ended (peer closed, socket error, protocol error, `destroy()`) before the operation finished. */
export class QmpClosedError extends QmpError {
  override name = 'QmpClosedError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_CLOSED, message, options);
  }
}

/** The server broke the protocol: bad JSON, an over-long line, an error reply without id, a malformed reply. */
export class QmpProtocolError extends QmpError {
  override name = 'QmpProtocolError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_PROTOCOL, message, options);
  }
}

/** No reply (or event) within the caller's `timeout`. */
export class QmpTimeoutError extends QmpError {
  override name = 'QmpTimeoutError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_TIMEOUT, message, options);
  }
}

/** The caller's AbortSignal fired; `cause` is the signal's reason. */
export class QmpAbortedError extends QmpError {
  override name = 'QmpAbortedError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_ABORTED, message, options);
  }
}

/** A method was called in a client state that does not allow it (e.g. `execute()` before `connect()`). */
export class QmpStateError extends QmpError {
  override name = 'QmpStateError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_STATE, message, options);
  }
}

/** The caller passed an option or argument the client cannot use (bad timeout, oob without the capability). */
export class QmpArgumentError extends QmpError {
  override name = 'QmpArgumentError';

  constructor(message: string, options: QlaunchErrorOptions = {}) {
    super(ErrorCode.QMP_ARGUMENT, message, options);
  }
}
