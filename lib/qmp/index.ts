// Public surface of the QMP client: the client, its command and event types, and its errors.

export { QmpClient } from './client.js';
export type {
  QmpCommandMap,
  QmpCommandName,
  QmpEventMap,
} from './commands.js';
export {
  QmpClosedError,
  QmpCommandError,
  QmpError,
} from './errors.js';

export type { QmpEvent } from './messages.js';
export type { QmpClientOptions } from './options.js';
