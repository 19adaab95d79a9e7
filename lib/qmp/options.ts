// The options and call signatures of QmpClient, apart from its logic so the public types read in one place.

import type { Logger } from '../logger.js';
import type { QmpCommandArgs, QmpCommandName, QmpEventMap } from './commands.js';
import type { QmpEvent } from './messages.js';

export type QmpClientState = 'idle' | 'connecting' | 'running' | 'disconnecting' | 'closed';

export interface QmpClientOptions {
  /** A pino logger (or the `lib/logger.ts` subset): lifecycle at debug, every line at trace; silent without one. */
  logger?: Logger | undefined;
  /** Default for `connect({ timeout })`, covering socket, greeting and negotiation. Default 10 s. */
  connectTimeout?: number | undefined;
  /** Default for `execute(…, { timeout })`. Default 60 s; `Infinity` waits forever. */
  commandTimeout?: number | undefined;
  /** Longest accepted line; longer is a protocol error. Default 10 MiB. */
  maxLineBytes?: number | undefined;
  /** How many recent events `waitFor({ since })` can look back on. Default 256. */
  eventHistory?: number | undefined;
}

export interface QmpConnectOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Name used in messages when the target is a stream (a path names itself). */
  label?: string | undefined;
}

export interface QmpExecuteOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Send as `exec-oob`; needs the `oob` capability, negotiated when the greeting offers it. */
  oob?: boolean | undefined;
}

export interface QmpWaitForOptions<E extends QmpEvent = QmpEvent> {
  filter?: ((event: E) => boolean) | undefined;
  /** Also accept events received since this `eventCursor()` value, if still in history. */
  since?: number | undefined;
  /** Default: wait until the session ends. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** `execute()`'s parameters after the name: arguments required exactly when the command map says so. */
export type ExecuteRest<K extends QmpCommandName> =
  QmpCommandArgs<K> extends undefined
    ? [args?: undefined, options?: QmpExecuteOptions]
    : [args: QmpCommandArgs<K>, options?: QmpExecuteOptions];

/** An event whose `data` is typed by `QmpEventMap`. */
export type QmpTypedEvent<K extends keyof QmpEventMap> = QmpEvent<QmpEventMap[K]> & { event: K };
