// Public surface of the guest agent client: GuestAgent, waitForAgent, exec types and errors.

export {
  GuestAgent,
  type GuestAgentConnectOptions,
  type GuestAgentSessionOptions,
  type GuestShutdownOptions,
} from './agent.js';
export type {
  GuestAgentCommandInfo,
  GuestAgentInfo,
  GuestExecStatus,
  GuestShutdownMode,
} from './commands.js';
export {
  AGENT_HINT,
  QgaAbortedError,
  QgaArgumentError,
  QgaClosedError,
  QgaCommandError,
  type QgaCommandErrorDetails,
  QgaConnectError,
  QgaError,
  QgaProtocolError,
  QgaTimeoutError,
} from './errors.js';
export { type GuestExecOptions, POLL_FIRST_MS, POLL_MAX_MS } from './exec.js';
export { describeArgv, type GuestExecInput } from './exec-request.js';
export type { GuestExecResult } from './exec-status.js';
export type { OperationOptions } from './session.js';
export { DEFAULT_MAX_LINE_BYTES, SENTINEL } from './stream.js';
export { type WaitForAgentOptions, waitForAgent } from './wait.js';
