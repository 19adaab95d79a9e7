// Starting a QEMU process and knowing how it ended: stderr kept for error messages, tied to our lifetime.

import { spawn } from 'node:child_process';
import { findExecutable } from '../host/binaries.js';
import type { QemuCommand } from '../qemu/argv.js';

export interface QemuExit {
  exitCode: number | null;
  signal: string | null;
  /** The tail of what QEMU wrote to stderr. */
  stderr: string;
}

export interface QemuProcess {
  pid: number;
  /** Resolves when QEMU has exited (never rejects). */
  exited: Promise<QemuExit>;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): void;
  stderr(): string;
}

export interface SpawnOptions {
  /** Have the kernel kill QEMU if this process dies, even by SIGKILL (via util-linux setpriv). */
  dieWithParent: boolean;
  env?: NodeJS.ProcessEnv | undefined;
}

const STDERR_CAP = 64 * 1024;

let setprivPath: Promise<string | undefined> | undefined;

/** argv prefix that makes the child die with us; empty when util-linux's setpriv is not installed. */
export async function parentDeathPrefix(): Promise<string[]> {
  setprivPath ??= findExecutable('setpriv', process.env['PATH']);
  const setpriv = await setprivPath;
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : [];
}

/** Human words for how a QEMU process ended. */
export function describeExit(exit: QemuExit): string {
  if (exit.signal) return `QEMU was killed by ${exit.signal}`;
  return `QEMU exited with status ${exit.exitCode}`;
}

/** Children still running, killed if this process exits without stopping them (normal exit, uncaught error). */
const live = new Set<QemuProcess>();
let exitHookInstalled = false;

// node:child_process rather than execa here: this path runs on every boot, and execa's import costs start-up time.
export async function spawnQemu(command: QemuCommand, options: SpawnOptions): Promise<QemuProcess> {
  const prefix = options.dieWithParent ? await parentDeathPrefix() : [];
  const [file, ...args] = [...prefix, command.file, ...command.args] as [string, ...string[]];
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_CAP);
  });
  let running = true;
  const exited = new Promise<QemuExit>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      // A child that never started emits no 'close'.
      if (child.pid === undefined) finish(null, null);
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      running = false;
      live.delete(handle);
      resolve({ exitCode: code, signal, stderr: stderr.trim() || (spawnError ? spawnError.message : '') });
    };
    child.once('close', finish);
  });
  const handle: QemuProcess = {
    pid: child.pid ?? -1,
    exited,
    get running() {
      return running;
    },
    kill: (signal = 'SIGKILL') => {
      if (running) child.kill(signal);
    },
    stderr: () => stderr.trim(),
  };
  if (child.pid === undefined) {
    running = false;
    await exited;
    return handle;
  }
  live.add(handle);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const qemu of live) qemu.kill('SIGKILL');
    });
  }
  return handle;
}
