// Commands and files in a guest, over its guest agent when it has one, else over SSH: what `Guest.exec`,
// `copyIn` and `copyOut` do.

import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { SshClient } from './ssh.js';

/** How a guest can be reached: its agent's socket, and SSH (cloud guests). */
export interface GuestAccess {
  guestAgent?: string | undefined;
  ssh?: SshClient | undefined;
}

/** What `exec` returns: the command's output and exit code, whichever way it ran. */
export interface GuestCommandResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GuestExecOptions {
  /** Written to the command's stdin. */
  input?: string | Uint8Array | undefined;
  /** Milliseconds before the command is given up on. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

const AGENT_CONNECT_MS = 10_000;

export const unsupported = (what: string, why: string, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.VM_UNSUPPORTED, `${what}: ${why}`, { hint });

const noAccess = (what: string): QlaunchError =>
  unsupported(
    `cannot ${what} a kernel guest`,
    'it has neither a guest agent nor SSH',
    'have its init do the work, and read the console (waitForSerial), or use a disk image the host can read',
  );

const copyFailed = (what: string, result: { exitCode: number; stderr: string }): QlaunchError =>
  new QlaunchError(
    ErrorCode.VM_EXEC_FAILED,
    `could not ${what}: exit status ${result.exitCode}${result.stderr ? `: ${result.stderr.trim()}` : ''}`,
    { hint: 'check the guest path and that the guest user may read or write it' },
  );

/** Run `argv` through the agent: its output as bytes. */
async function agentExec(socket: string, argv: readonly string[], options: GuestExecOptions) {
  const { GuestAgent } = await import('../../qga/index.js');
  const agent = await GuestAgent.connect(socket, { timeout: AGENT_CONNECT_MS, signal: options.signal });
  try {
    return await agent.exec(argv, options);
  } finally {
    await agent.close();
  }
}

/** Run `argv` in the guest (no shell: argv[0] is the program). */
export async function execInGuest(
  access: GuestAccess,
  argv: readonly string[],
  options: GuestExecOptions = {},
): Promise<GuestCommandResult> {
  if (access.guestAgent !== undefined) {
    const result = await agentExec(access.guestAgent, argv, options);
    return {
      stdout: result.stdout.toString('utf8'),
      stderr: result.stderr.toString('utf8'),
      exitCode: result.exitCode,
    };
  }
  if (access.ssh) {
    const result = await access.ssh.exec(argv, options);
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode };
  }
  throw noAccess('run a command in');
}

/** Copy host file `hostPath` to `guestPath` in the guest (made or replaced). */
export async function copyIntoGuest(access: GuestAccess, hostPath: string, guestPath: string): Promise<void> {
  const input = await readFile(hostPath);
  const result = await execInGuest(access, ['sh', '-c', 'cat > "$1"', 'sh', guestPath], { input });
  if (result.exitCode !== 0) throw copyFailed(`copy ${hostPath} to the guest's ${guestPath}`, result);
}

/** Copy `guestPath` from the guest to host file `hostPath` (0600), byte for byte. */
export async function copyOutOfGuest(
  access: GuestAccess,
  guestPath: string,
  hostPath: string,
): Promise<void> {
  const what = `copy the guest's ${guestPath} out`;
  let bytes: Buffer;
  if (access.guestAgent !== undefined) {
    const result = await agentExec(access.guestAgent, ['cat', guestPath], {});
    if (result.exitCode !== 0)
      throw copyFailed(what, { exitCode: result.exitCode, stderr: result.stderr.toString('utf8') });
    if (result.truncated)
      throw copyFailed(what, {
        exitCode: 0,
        stderr: 'the guest agent cut the file at its capture limit (16 MiB)',
      });
    bytes = result.stdout;
  } else if (access.ssh) {
    // Collected as bytes: SSH's text output would not keep a binary file whole.
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    const result = await access.ssh.exec(['cat', guestPath], { stdout: sink });
    if (result.exitCode !== 0) throw copyFailed(what, result);
    bytes = Buffer.concat(chunks);
  } else {
    throw noAccess('copy files out of');
  }
  await writeFile(hostPath, bytes, { mode: 0o600 });
}
