// Public surface of the guest agent client: GuestAgent, waitForAgent, exec types and errors.

export { GuestAgent, type GuestAgentConnectOptions } from './agent.js';
export { QgaCommandError, QgaError } from './errors.js';
export { type GuestExecOptions, POLL_FIRST_MS, POLL_MAX_MS } from './exec.js';
export type { GuestExecResult } from './exec-status.js';
export { type WaitForAgentOptions, waitForAgent } from './wait.js';
