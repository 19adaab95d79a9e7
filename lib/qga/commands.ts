// The shapes of the agent commands qlaunch uses, as the QEMU guest agent protocol reference defines them.

/** One entry of `guest-info`'s command list. */
export interface GuestAgentCommandInfo {
  name: string;
  enabled: boolean;
  'success-response': boolean;
}

/** `guest-info`: the agent's version and what it can do. */
export interface GuestAgentInfo {
  version: string;
  supported_commands: GuestAgentCommandInfo[];
}

/** `guest-exec-status`, decoded: output only arrives once `exited` is true (the agent keeps it until then). */
export interface GuestExecStatus {
  exited: boolean;
  /** Set when the process exited normally. */
  exitcode?: number | undefined;
  /** Set when a signal ended it (Linux), or the unhandled exception code (Windows). */
  signal?: number | undefined;
  'out-data'?: string | undefined;
  'err-data'?: string | undefined;
  'out-truncated'?: boolean | undefined;
  'err-truncated'?: boolean | undefined;
}

/** `guest-shutdown`'s modes; the agent default is powerdown. */
export type GuestShutdownMode = 'powerdown' | 'halt' | 'reboot';
