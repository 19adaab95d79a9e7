// Types of the QMP commands and events qlaunch uses; later modules extend the maps by declaration merging.

/** `query-version` result, also the greeting's `version`. */
export interface QmpVersionInfo {
  qemu: { major: number; minor: number; micro: number };
  /** Distribution build string, e.g. `Debian 1:7.2+dfsg-7`; may be empty. */
  package: string;
}

/** QEMU's RunState; `(string & {})` keeps future states type-safe without a breaking change. */
export type QmpRunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo'
  | (string & {});

export interface QmpStatusInfo {
  running: boolean;
  status: QmpRunState;
  /** Dropped from newer QEMU; present in 7.x. */
  singlestep?: boolean;
}

export interface QmpKvmInfo {
  enabled: boolean;
  present: boolean;
}

export interface QmpCpuInfoFast {
  'cpu-index': number;
  'qom-path': string;
  'thread-id': number;
  target: string;
  props?: { 'node-id'?: number; 'socket-id'?: number; 'core-id'?: number; 'thread-id'?: number };
  [extra: string]: unknown;
}

/** What a command without a meaningful result returns: `{}`. */
export type QmpEmpty = Record<string, never>;

/** Command without arguments. */
type NoArgs<R> = { args: undefined; result: R };

/**
 * Command name → its arguments and result. Extend it where a command is used:
 * `declare module '../qmp/commands.js' { interface QmpCommandMap { 'device_del': { args: { id: string }; result: QmpEmpty } } }`
 */
export interface QmpCommandMap {
  'query-status': NoArgs<QmpStatusInfo>;
  'query-version': NoArgs<QmpVersionInfo>;
  'query-name': NoArgs<{ name?: string }>;
  'query-kvm': NoArgs<QmpKvmInfo>;
  'query-commands': NoArgs<Array<{ name: string }>>;
  'query-cpus-fast': NoArgs<QmpCpuInfoFast[]>;
  system_powerdown: NoArgs<QmpEmpty>;
  system_reset: NoArgs<QmpEmpty>;
  quit: NoArgs<QmpEmpty>;
  stop: NoArgs<QmpEmpty>;
  cont: NoArgs<QmpEmpty>;
  'human-monitor-command': { args: { 'command-line': string; 'cpu-index'?: number }; result: string };
}

export type QmpCommandName = keyof QmpCommandMap;
export type QmpCommandArgs<K extends QmpCommandName> = QmpCommandMap[K]['args'];
export type QmpCommandResult<K extends QmpCommandName> = QmpCommandMap[K]['result'];

/** Event name → its `data`. Events not listed here still arrive, typed as `Record<string, unknown>`. */
export interface QmpEventMap {
  SHUTDOWN: { guest: boolean; reason: string };
  POWERDOWN: Record<string, never>;
  RESET: { guest: boolean; reason: string };
  STOP: Record<string, never>;
  RESUME: Record<string, never>;
  GUEST_PANICKED: { action: string; info?: Record<string, unknown> };
}
