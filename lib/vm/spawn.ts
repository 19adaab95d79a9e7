// Starting a QEMU process and knowing how it ended: stderr kept for error messages, tied to our lifetime.

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

export async function spawnQemu(command: QemuCommand, options: SpawnOptions): Promise<QemuProcess> {
  const { execa } = await import('execa');
  const prefix = options.dieWithParent ? await parentDeathPrefix() : [];
  const [file, ...args] = [...prefix, command.file, ...command.args] as [string, ...string[]];
  const child = execa(file, args, {
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // execa kills the child when this process exits normally; setpriv covers the abnormal exits.
    cleanup: true,
    env: options.env ?? process.env,
    extendEnv: false,
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_CAP);
  });
  let running = true;
  const exited = child.then((result) => {
    running = false;
    return {
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      // A spawn that never ran (ENOENT, EACCES) has no stderr: execa's message says what happened.
      stderr:
        stderr.trim() || (result.exitCode === undefined && !result.signal ? (result.shortMessage ?? '') : ''),
    };
  });
  if (child.pid === undefined) {
    const exit = await exited;
    return { pid: -1, exited, running: false, kill: () => {}, stderr: () => exit.stderr };
  }
  return {
    pid: child.pid,
    exited,
    get running() {
      return running;
    },
    kill: (signal = 'SIGKILL') => {
      if (running) child.kill(signal);
    },
    stderr: () => stderr.trim(),
  };
}
