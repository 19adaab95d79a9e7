// virtiofsd as a process of the VM: one per virtiofs mount, started before QEMU (which connects to its socket),
// gone with it. virtiofsd exits when QEMU's connection closes; it also dies with a throwaway run's qlaunch.

import { spawn } from 'node:child_process';
import { chmod, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import { parentDeathPrefix } from './process.js';

// How long virtiofsd gets to open its socket.
const SOCKET_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
const STDERR_CAP = 16 * 1024;

export interface VirtiofsdProcess {
  pid: number;
  /** Resolves once it has exited. */
  readonly exited: Promise<void>;
  kill(): void;
  /** The tail of what it wrote (empty when it writes to a log file). */
  stderr(): string;
}

/**
 * The script that makes a read-only share really read-only: virtiofsd (QEMU 7.2's) has no read-only option, so in
 * a private mount namespace the directory is bind-mounted read-only over itself before virtiofsd starts; virtiofsd's
 * own sandbox then pivots into that read-only mount. Paths are arguments, never part of the script.
 */
const READ_ONLY_SCRIPT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';

/** The command for one share (pure): virtiofsd serving `dir` on `socket`, read-only through a mount namespace. */
export function virtiofsdCommand(binary: string, dir: string, socket: string, readOnly: boolean): string[] {
  const daemon = [binary, `--socket-path=${socket}`, '-o', `source=${dir}`, '-o', 'cache=auto'];
  if (!readOnly) return daemon;
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    '/bin/sh',
    '-c',
    READ_ONLY_SCRIPT,
    'qlaunch-virtiofsd-ro',
    dir,
    ...daemon,
  ];
}

export interface VirtiofsdOptions {
  binary: string;
  dir: string;
  socket: string;
  readOnly: boolean;
  /** Its output appended here, and it outlives this process (an instance's); else our child, dying with us. */
  logFile?: number | undefined;
}

/** Start virtiofsd and wait for its socket (made 0600); it is killed if it does not come up. */
export async function startVirtiofsd(options: VirtiofsdOptions): Promise<VirtiofsdProcess> {
  const detached = options.logFile !== undefined;
  const command = virtiofsdCommand(options.binary, options.dir, options.socket, options.readOnly);
  const [file, ...args] = [...(detached ? [] : await parentDeathPrefix()), ...command] as [
    string,
    ...string[],
  ];
  const child = spawn(file, args, {
    detached,
    stdio: detached ? ['ignore', options.logFile, options.logFile] : ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderr = (stderr + text).slice(-STDERR_CAP);
  });
  let running = child.pid !== undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', () => {
      if (child.pid === undefined) resolve();
    });
    child.once('close', () => {
      running = false;
      resolve();
    });
  });
  const handle: VirtiofsdProcess = {
    pid: child.pid ?? -1,
    exited,
    kill: () => {
      if (running) child.kill('SIGKILL');
    },
    stderr: () => stderr.trim(),
  };
  if (detached) child.unref();
  const deadline = Date.now() + SOCKET_TIMEOUT_MS;
  while (running) {
    const info = await stat(options.socket).catch(() => undefined);
    if (info?.isSocket()) {
      await chmod(options.socket, 0o600);
      return handle;
    }
    if (Date.now() > deadline) break;
    await sleep(POLL_MS);
  }
  handle.kill();
  await exited;
  const said = handle.stderr();
  throw new QlaunchError(
    ErrorCode.VM_START_FAILED,
    `virtiofsd for ${options.dir} did not start${said ? `: ${said}` : ''}`,
    { hint: 'check the message above; type=9p serves the mount without virtiofsd' },
  );
}
