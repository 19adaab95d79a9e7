// One logged-in SSH connection kept open (OpenSSH's ControlMaster): the commands that ride it skip sshd's fork, the
// key exchange and the login, which under TCG cost a guest more than half a second each time.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { missingOpenSsh } from '../../cloud/ssh-key.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { MAX_UNIX_PATH_BYTES } from '../../qmp/socket.js';
import { SSH_FAILED, type SshTarget, sshArgs } from './ssh-args.js';

export interface SshMaster {
  readonly controlPath: string;
  /** End the connection (idempotent, never throws); commands after it connect on their own. */
  close(): Promise<void>;
}

// ssh binds the socket at the path plus a 17-character random suffix, then renames it into place.
const BIND_SUFFIX_BYTES = 17;
const POLL_MS = 10;
const RETRY_MS = 100;
const CLOSE_GRACE_MS = 2000;
const STDERR_KEPT = 4096;

/** Whether a master socket at `path` fits the OS's limit for a unix socket path (with ssh's temporary suffix). */
export const controlPathFits = (path: string): boolean =>
  Buffer.byteLength(path) + BIND_SUFFIX_BYTES <= MAX_UNIX_PATH_BYTES;

const isSocket = (path: string) =>
  lstat(path).then(
    (stat) => stat.isSocket(),
    () => false,
  );

const exitOf = (child: ChildProcess) =>
  // 'close', not 'exit': by then all of its stderr has been read.
  once(child, 'close').then(
    ([code]) => (typeof code === 'number' ? code : SSH_FAILED),
    () => SSH_FAILED, // no process: the spawn error is reported instead
  );

/**
 * Log in to `target` and keep the connection as the master at its controlPath; resolves once the socket is up
 * (the login succeeded). Connection failures are retried until `timeout` ms have passed.
 */
export async function openSshMaster(target: SshTarget, timeout: number): Promise<SshMaster> {
  const path = target.controlPath;
  // sshArgs refuses a master without a path by name.
  const args = sshArgs(target, { master: true });
  if (path === undefined || !controlPathFits(path)) {
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `SSH control socket path ${path} is too long for a socket`,
      {
        hint: 'set TMPDIR to a shorter directory',
      },
    );
  }
  const deadline = performance.now() + timeout;
  // What the last attempt that ended by itself said: an attempt cut off at the deadline has had no time to.
  let lastSaid = '';
  for (;;) {
    const child = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT);
    });
    const spawnError = once(child, 'spawn').then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error,
    );
    const exited = exitOf(child);
    const failure = await spawnError;
    if (failure) {
      throw failure.code === 'ENOENT' ? missingOpenSsh('ssh', failure) : failure;
    }
    let code: number | undefined;
    void exited.then((c) => {
      code = c;
    });
    while (code === undefined && !(await isSocket(path)) && performance.now() < deadline) {
      await sleep(POLL_MS);
    }
    if (code === undefined && (await isSocket(path))) return running(child, path, exited);
    const timedOut = code === undefined;
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
    const said = stderr.trim() || lastSaid;
    if (timedOut || code !== SSH_FAILED || performance.now() + RETRY_MS >= deadline) {
      throw new QlaunchError(
        ErrorCode.VM_SSH,
        `could not log in over SSH to ${target.user}@${target.host}:${target.port}: ${
          timedOut
            ? `no login within ${timeout} ms${said && `; ssh said: ${said}`}`
            : said || `exit status ${code}`
        }`,
        { hint: "check that sshd runs in the guest and accepts the instance's key" },
      );
    }
    lastSaid = said;
    await sleep(RETRY_MS);
  }
}

/** The master, handed over: it must not hold this process open, and it ends when the guest's sshd goes. */
function running(child: ChildProcess, controlPath: string, exited: Promise<number>): SshMaster {
  child.unref();
  (child.stderr as { unref?: () => void } | null)?.unref?.();
  let closing: Promise<void> | undefined;
  return {
    controlPath,
    close: () => {
      closing ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        // SIGTERM: ssh ends the connection and removes its socket.
        child.kill('SIGTERM');
        const ended = await Promise.race([exited.then(() => true), sleep(CLOSE_GRACE_MS).then(() => false)]);
        if (!ended) child.kill('SIGKILL');
      })();
      return closing;
    },
  };
}
