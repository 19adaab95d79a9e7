// Commands in a guest over the system OpenSSH client: exec (output streamed or collected, timeouts and aborts that
// end the command in the guest too) and interactive runs.

import { once } from 'node:events';
import { constants } from 'node:os';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { missingOpenSsh } from '../../cloud/ssh-key.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { killRecordedRun, recordedRun, runToken, StartedLine } from './remote-group.js';
import { DEFAULT_CONNECT_TIMEOUT_S, remoteCommand, SSH_FAILED, type SshTarget, sshArgs } from './ssh-args.js';

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

/** How `exec` returns output: text (UTF-8, the default) or the bytes as they came (`'buffer'`). */
export type SshEncoding = 'utf8' | 'buffer';

/** Output in `encoding`: a string, or a Buffer for `'buffer'`. */
export type SshOutput<E extends SshEncoding = 'utf8'> = E extends 'buffer' ? Buffer : string;

/** Where streamed output goes as it arrives: a stream (not ended afterwards, given bytes) or a function. */
export type OutputSink<E extends SshEncoding = 'utf8'> = Writable | ((chunk: SshOutput<E>) => void);

export interface SshExecOptions<E extends SshEncoding = 'utf8'> {
  /** Written to the command's stdin, which is then closed; without it stdin is empty. */
  input?: string | Uint8Array | undefined;
  /**
   * Milliseconds before ssh is killed (VM_TIMEOUT). The command is ended in the guest too (SIGTERM to its process
   * group, SIGKILL 2 s later) over a second SSH session before the promise settles.
   */
  timeout?: number | undefined;
  /** Aborting kills ssh (VM_ABORTED), and ends the command in the guest as a timeout does. */
  signal?: AbortSignal | undefined;
  /** `'buffer'`: stdout and stderr (and what function sinks get) are Buffers with the bytes as they came. */
  encoding?: E | undefined;
  stdout?: OutputSink<E> | undefined;
  stderr?: OutputSink<E> | undefined;
  /** Seconds for ssh's connect and handshake (default 10). */
  connectTimeout?: number | undefined;
}

export interface SshResult<E extends SshEncoding = 'utf8'> {
  stdout: SshOutput<E>;
  stderr: SshOutput<E>;
  /** The command's exit code; 128 + N when signal N killed it, as in a shell. */
  exitCode: number;
  /**
   * Exit 255: ssh itself failed (nothing listening, the key refused, the connection lost) — or, rarely, the
   * remote command exited 255, which ssh reports the same way.
   */
  connectionFailed: boolean;
}

/** How long ending a timed-out or aborted command in the guest may take: connect, SIGTERM, 2 s, SIGKILL. */
const KILL_GRACE_MS = 5_000;

function follow(stream: Readable | null, sink: OutputSink<SshEncoding> | undefined, bytes: boolean): void {
  if (!stream || !sink) return;
  if (typeof sink !== 'function') {
    stream.on('data', (chunk: Buffer) => sink.write(chunk));
    return;
  }
  if (bytes) {
    stream.on('data', (chunk: Buffer) => sink(chunk));
    return;
  }
  // A decoder keeps a UTF-8 character split across chunks whole.
  const decoder = new StringDecoder('utf8');
  stream.on('data', (chunk: Buffer) => {
    const text = decoder.write(chunk);
    if (text) sink(text);
  });
  stream.on('end', () => {
    const rest = decoder.end();
    if (rest) sink(rest);
  });
}

const describe = (target: SshTarget, argv: readonly string[]) =>
  `${JSON.stringify(argv)} on ${target.user}@${target.host}:${target.port}`;

function checkTimeout(timeout: unknown): void {
  if (timeout === undefined) return;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout <= 0) {
    throw invalid(
      `the SSH exec timeout must be a positive whole number of milliseconds, got ${typeof timeout === 'number' ? timeout : (JSON.stringify(timeout) ?? typeof timeout)}`,
      'pass e.g. timeout: 30_000, or leave it out to wait as long as the command runs',
    );
  }
}

/**
 * End the run recorded under `token` in the guest; false when the guest could not be reached to do it. A run not
 * known to have started is ended in the background: a guest that never answered must not hold up the caller.
 */
async function endInGuest(target: SshTarget, token: string, started: boolean, connectTimeout?: number) {
  const { execa } = await import('execa');
  const args = [...sshArgs(target, { connectTimeout }), remoteCommand(killRecordedRun(token, started))];
  const timeout = (connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S) * 1000 + KILL_GRACE_MS;
  const killer = execa('ssh', args, { reject: false, stdio: 'ignore', timeout });
  if (!started) {
    killer.unref();
    return true;
  }
  return (await killer).exitCode === 0;
}

/** Why the command may still be running, for an error message; empty when it was ended. */
const leftRunning = (ended: boolean) =>
  ended
    ? ''
    : '; it could not be ended in the guest (a second SSH connection failed), so it may still run there';

/** Run `argv` in the guest; its exit code comes back as is, and only a local failure throws. */
export async function sshExec<E extends SshEncoding = 'utf8'>(
  target: SshTarget,
  argv: readonly string[],
  options: SshExecOptions<E> = {},
): Promise<SshResult<E>> {
  if (argv.length === 0) {
    throw invalid('no command to run over SSH', 'pass the command as an argv array, e.g. ["uname", "-a"]');
  }
  checkTimeout(options.timeout);
  const bytes = options.encoding === 'buffer';
  if (options.encoding !== undefined && !bytes && options.encoding !== 'utf8') {
    throw invalid(
      `SSH output encoding ${JSON.stringify(options.encoding)} is not one qlaunch offers`,
      "use encoding: 'buffer' for bytes, or leave it out for UTF-8 text",
    );
  }
  remoteCommand(argv); // refuses a NUL byte before anything runs
  if (options.signal?.aborted) {
    throw new QlaunchError(
      ErrorCode.VM_ABORTED,
      `ssh ${describe(target, argv)} was aborted before it started`,
    );
  }
  // Only a run that may have to be ended (a timeout, a signal) records its process group: the record costs a guest
  // under TCG a tenth of a second of forks and an `rm`.
  const recorded = options.timeout !== undefined || options.signal !== undefined;
  const token = runToken();
  const args = [
    ...sshArgs(target, { connectTimeout: options.connectTimeout }),
    remoteCommand(recorded ? recordedRun(token, argv) : argv),
  ];
  // Loaded on first use: execa costs start-up time that `qlaunch run` without SSH should not pay.
  const { execa } = await import('execa');
  const subprocess = execa('ssh', args, {
    reject: false,
    stripFinalNewline: false,
    encoding: bytes ? 'buffer' : 'utf8',
    // stderr is read here: the run's started line comes off its front first.
    buffer: { stdout: true, stderr: false },
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
  });
  const started = new StartedLine(token);
  const stderrStream = new PassThrough();
  const stderrChunks: Buffer[] = [];
  stderrStream.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
  subprocess.stderr.on('data', (chunk: Buffer) => stderrStream.write(recorded ? started.take(chunk) : chunk));
  subprocess.stderr.on('end', () => stderrStream.end(recorded ? started.rest() : undefined));
  follow(subprocess.stdout, options.stdout as OutputSink<SshEncoding> | undefined, bytes);
  follow(stderrStream, options.stderr as OutputSink<SshEncoding> | undefined, bytes);
  const result = await subprocess;
  if (!stderrStream.writableFinished) await once(stderrStream, 'finish');
  const stderrBytes = Buffer.concat(stderrChunks);
  const stdout = (
    bytes ? Buffer.from(result.stdout as Uint8Array) : String(result.stdout ?? '')
  ) as SshOutput<E>;
  const stderr = (bytes ? stderrBytes : stderrBytes.toString('utf8')) as SshOutput<E>;
  const stderrText = stderrBytes.toString('utf8');
  if (result.isCanceled) {
    const ended = await endInGuest(target, token, started.seen, options.connectTimeout);
    throw new QlaunchError(
      ErrorCode.VM_ABORTED,
      `ssh ${describe(target, argv)} was aborted${leftRunning(ended)}`,
    );
  }
  if (result.timedOut) {
    const ended = await endInGuest(target, token, started.seen, options.connectTimeout);
    throw new QlaunchError(
      ErrorCode.VM_TIMEOUT,
      `ssh ${describe(target, argv)} did not finish within ${options.timeout} ms${stderrText ? `; it said: ${stderrText.trim()}` : ''}${leftRunning(ended)}`,
      { hint: 'raise the timeout, or check that the command does not wait for input' },
    );
  }
  if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw missingOpenSsh('ssh', result.cause);
  if (typeof result.exitCode !== 'number') {
    throw new QlaunchError(ErrorCode.VM_SSH, `ssh ${describe(target, argv)} failed: ${result.shortMessage}`, {
      hint: 'check that the ssh client works: ssh -V',
      cause: result.cause,
    });
  }
  return { stdout, stderr, exitCode: result.exitCode, connectionFailed: result.exitCode === SSH_FAILED };
}

/**
 * ssh with this process's stdin, stdout and stderr: a login shell without `argv`, else that command (with a
 * terminal when stdin is one). Resolves to ssh's exit code, 128 + the signal number if ssh was killed.
 */
export async function sshInteractive(target: SshTarget, argv: readonly string[] = []): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  const args = [...sshArgs(target, { interactive }), ...(argv.length > 0 ? [remoteCommand(argv)] : [])];
  const { execa } = await import('execa');
  const result = await execa('ssh', args, { stdio: 'inherit', reject: false });
  if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw missingOpenSsh('ssh', result.cause);
  if (typeof result.exitCode === 'number') return result.exitCode;
  const signal = result.signal === undefined ? undefined : constants.signals[result.signal];
  return signal === undefined ? SSH_FAILED : 128 + signal;
}

export interface SshClient {
  readonly target: SshTarget;
  /**
   * Run `argv` (no shell: each word reaches the program as given). On `timeout` or an aborted `signal` the command
   * is ended in the guest too, with everything in its process group, before the promise rejects.
   * `encoding: 'buffer'` returns stdout and stderr as Buffers, for binary output.
   */
  exec<E extends SshEncoding = 'utf8'>(
    argv: readonly string[],
    options?: SshExecOptions<E>,
  ): Promise<SshResult<E>>;
  interactive(argv?: readonly string[]): Promise<number>;
}

/** `target` with the runners bound: what a cloud `Vm` exposes as `vm.ssh`. */
export const sshClient = (target: SshTarget): SshClient => ({
  target,
  exec: (argv, options) => sshExec(target, argv, options),
  interactive: (argv) => sshInteractive(target, argv),
});
