// Starting QEMU so it outlives the command that started it: its own session, output to a log file, not our child
// for longer than the start takes.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { QemuCommand } from '../qemu/argv.js';

export interface DetachedQemu {
  pid: number;
  /** True until QEMU exits while this process still watches it. */
  readonly running: boolean;
  /** Resolves if QEMU exits while this process is alive (a start that failed); never rejects. */
  readonly exited: Promise<{ exitCode: number | null; signal: string | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Spawn `command` detached (setsid), stdout and stderr appended to `logFile` (0600). */
export function spawnDetached(command: QemuCommand, logFile: string): DetachedQemu {
  const out = openSync(logFile, 'a', 0o600);
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(command.file, command.args, { detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  let running = child.pid !== undefined;
  const exited = new Promise<{ exitCode: number | null; signal: string | null }>((resolve) => {
    // A binary that cannot be run emits 'error' and no 'exit'.
    child.once('error', () => {
      running = false;
      resolve({ exitCode: null, signal: null });
    });
    child.once('exit', (exitCode, signal) => {
      running = false;
      resolve({ exitCode, signal });
    });
  });
  // Do not keep this process alive for QEMU: it is meant to outlive us.
  child.unref();
  return {
    pid: child.pid ?? -1,
    get running() {
      return running;
    },
    exited,
    kill: (signal = 'SIGKILL') => {
      if (running) child.kill(signal);
    },
  };
}
