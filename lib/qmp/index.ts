// Public surface of the QMP client: framing, session, events, command types and errors.

export { QmpClient } from './client.js';
export type {
  QmpCommandArgs,
  QmpCommandMap,
  QmpCommandName,
  QmpCommandResult,
  QmpCpuInfoFast,
  QmpEmpty,
  QmpEventMap,
  QmpKvmInfo,
  QmpRunState,
  QmpStatusInfo,
  QmpVersionInfo,
} from './commands.js';
export {
  QmpAbortedError,
  QmpArgumentError,
  QmpClosedError,
  QmpCommandError,
  type QmpCommandErrorDetails,
  QmpConnectError,
  QmpError,
  QmpGreetingError,
  QmpNegotiationError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
} from './errors.js';
export {
  DEFAULT_EVENT_HISTORY,
  type QmpEventFilter,
  QmpEventListener,
  type QmpEventSelector,
} from './events.js';
export {
  DEFAULT_MAX_LINE_BYTES,
  type FramedItem,
  JsonLineReader,
  type JsonObject,
  parseJsonLine,
} from './framing.js';
export {
  classifyMessage,
  encodeCommand,
  parseGreeting,
  type QmpEvent,
  type QmpGreeting,
  type QmpTimestamp,
} from './messages.js';
export type {
  QmpClientOptions,
  QmpClientState,
  QmpConnectOptions,
  QmpExecuteOptions,
  QmpTypedEvent,
  QmpWaitForOptions,
} from './options.js';
export { MAX_UNIX_PATH_BYTES, type QmpTarget } from './socket.js';
