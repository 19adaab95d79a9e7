// The one place qlaunch starts QEMU, and knows how it ended: a child tied to our lifetime (throwaway guests), a
// detached process that outlives us (instances), or one an earlier command started (adopted by pid).

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable } from '../host/binaries.js';
import { processAlive } from '../process-alive.js';
import type { QemuCommand } from '../qemu/argv.js';

export interface QemuExit {
  /** null when unknown: a detached or adopted QEMU is not our child, so its status cannot be read. */
  exitCode: number | null;
  signal: string | null;
  /** The tail of what QEMU wrote to stderr (empty when it went to a log file). */
  stderr: string;
}

export interface QemuProcess {
  pid: number;
  /** Resolves when QEMU has exited (never rejects). */
  readonly exited: Promise<QemuExit>;
  readonly running: boolean;
  kill(signal?: NodeJS.Signals): void;
  stderr(): string;
}

export type SpawnOptions =
  /**
   * Our child: stderr kept for messages; the kernel kills it if we die, even by SIGKILL (util-linux setpriv). A
   * QEMU that drops its user (`dropsUser`) loses that on the drop: a reaper kills it instead.
   */
  | {
      mode: 'attached';
      env?: NodeJS.ProcessEnv | undefined;
      dropsUser?: boolean | undefined;
      /** Extra fds QEMU inherits as 3, 4, …: what a warm clone reads its device state from. */
      fds?: readonly number[] | undefined;
      /** Directories the reaper removes if this process dies with QEMU still running (a run's overlay, sockets). */
      removeOnDeath?: readonly string[] | undefined;
    }
  /** Its own session, output appended to `logFile` (0600); it outlives this process. */
  | {
      mode: 'detached';
      logFile: string;
      /** Extra fds QEMU inherits as 3, 4, …: what an instance's first start from a warm image reads. */
      fds?: readonly number[] | undefined;
    };

const STDERR_CAP = 64 * 1024;
// How often an adopted QEMU (not our child: no exit event) is looked at.
const ADOPTED_POLL_MS = 100;

let setprivPath: Promise<string | undefined> | undefined;

/** argv prefix that makes the child die with us; empty when util-linux's setpriv is not installed. */
export async function parentDeathPrefix(): Promise<string[]> {
  setprivPath ??= findExecutable('setpriv', process.env['PATH']);
  const setpriv = await setprivPath;
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : [];
}

/**
 * A shell that acts once its stdin reaches end of file, when this process dies, however it dies (the kernel closes
 * our end): it SIGKILLs `pid` (if given: changing a process's user clears its parent-death signal), then removes
 * `dirs`, which nothing else would once we are gone. Paths are arguments, never part of the script.
 */
function spawnReaper(pid: number | undefined, dirs: readonly string[]): ReturnType<typeof spawn> {
  const script =
    'read _; if [ -n "$1" ]; then kill -KILL "$1" 2>/dev/null; fi; shift; if [ "$#" -gt 0 ]; then rm -rf -- "$@"; fi';
  const reaper = spawn(
    '/bin/sh',
    ['-c', script, 'qlaunch-reaper', pid === undefined ? '' : String(pid), ...dirs],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  reaper.on('error', () => {});
  // Neither the reaper nor its pipe keeps this process alive.
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return reaper;
}

/** Human words for how a QEMU process ended. */
export function describeExit(exit: QemuExit): string {
  if (exit.signal) return `QEMU was killed by ${exit.signal}`;
  if (exit.exitCode === null) return 'QEMU exited';
  return `QEMU exited with status ${exit.exitCode}`;
}

/** Attached children still running, killed if this process exits without stopping them. */
const live = new Set<QemuProcess>();
let exitHookInstalled = false;

// node:child_process rather than execa here: this path runs on every boot, and execa's import costs start-up time.
export async function spawnQemu(command: QemuCommand, options: SpawnOptions): Promise<QemuProcess> {
  const detached = options.mode === 'detached';
  const prefix = detached ? [] : await parentDeathPrefix();
  const [file, ...args] = [...prefix, command.file, ...command.args] as [string, ...string[]];
  const out = detached ? openSync(options.logFile, 'a', 0o600) : undefined;
  const inherited = options.fds ?? [];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(file, args, {
      detached,
      // Extra fds become QEMU's fd 3, 4, …: how a migration stream reaches it without a path or a shell.
      stdio:
        out === undefined ? ['ignore', 'ignore', 'pipe', ...inherited] : ['ignore', out, out, ...inherited],
      env: (!detached && options.env) || process.env,
    });
  } finally {
    if (out !== undefined) closeSync(out);
  }
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_CAP);
  });
  let running = true;
  const dirs = options.mode === 'attached' ? (options.removeOnDeath ?? []) : [];
  const killer = !detached && options.dropsUser ? child.pid : undefined;
  const reaper =
    child.pid !== undefined && (killer !== undefined || dirs.length > 0)
      ? spawnReaper(killer, dirs)
      : undefined;
  const exited = new Promise<QemuExit>((resolve) => {
    let spawnError: Error | undefined;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      // Gone before its pid can be reused.
      reaper?.kill('SIGKILL');
      running = false;
      live.delete(handle);
      resolve({ exitCode: code, signal, stderr: stderr.trim() || (spawnError ? spawnError.message : '') });
    };
    child.once('error', (error) => {
      spawnError = error;
      // A child that never started emits no 'close'.
      if (child.pid === undefined) finish(null, null);
    });
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
  if (detached) {
    // Do not keep this process alive for QEMU: it is meant to outlive us.
    child.unref();
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

/** A QEMU an earlier command started (an instance's), known only by its pid: its end is seen by polling. */
export function adoptQemu(pid: number): QemuProcess {
  let exited: Promise<QemuExit> | undefined;
  return {
    pid,
    get exited() {
      exited ??= (async () => {
        while (processAlive(pid)) await sleep(ADOPTED_POLL_MS, undefined, { ref: false });
        return { exitCode: null, signal: null, stderr: '' };
      })();
      return exited;
    },
    get running() {
      return processAlive(pid);
    },
    kill: (signal = 'SIGKILL') => {
      try {
        process.kill(pid, signal);
      } catch {}
    },
    stderr: () => '',
  };
}
