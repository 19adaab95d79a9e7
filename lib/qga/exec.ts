// exec(): start a program with `guest-exec`, poll `guest-exec-status` with a backoff until it exits.

import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestExecStatus } from './commands.js';
import { checkSignal, checkTimeout } from './deadline.js';
import { QgaAbortedError, QgaCommandError, QgaProtocolError, QgaTimeoutError } from './errors.js';
import { buildExecArgs, describeArgv, type GuestExecInput } from './exec-request.js';
import { execResult, type GuestExecResult, parseExecStatus } from './exec-status.js';

export interface GuestExecOptions extends GuestExecInput {
  /** Milliseconds for the whole run, start to exit; default Infinity. The program keeps running past it. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** How exec() reaches the agent: one command, with a per-command timeout and the caller's signal. */
export type ExecuteFn = (
  command: string,
  args: Record<string, unknown>,
  options: { timeout: number; signal: AbortSignal | undefined },
) => Promise<unknown>;

/** First and longest pause between status polls: quick programs return fast, long ones cost few round trips. */
export const POLL_FIRST_MS = 10;
export const POLL_MAX_MS = 200;

export const nextPollDelay = (previous: number): number => Math.min(previous * 2, POLL_MAX_MS);

/** Runs argv in the guest and resolves once it exited, whatever its exit status. */
export async function runGuestExec(
  execute: ExecuteFn,
  argv: readonly string[],
  options: GuestExecOptions,
  commandTimeout: number,
): Promise<GuestExecResult> {
  const args = buildExecArgs(argv, options);
  const timeout = checkTimeout(options.timeout ?? Number.POSITIVE_INFINITY, 'timeout');
  const signal = checkSignal(options.signal);
  const what = describeArgv(argv);
  const deadline = Date.now() + timeout;
  let pid: number | undefined;
  const running = (): string => (pid === undefined ? '' : `; it keeps running in the guest as pid ${pid}`);
  const expired = (cause?: unknown): QgaTimeoutError =>
    new QgaTimeoutError(`${what} did not finish within ${timeout} ms${running()}`, {
      hint: 'raise the timeout, or look at the program in the guest',
      cause,
    });
  // A command's own timeout, unless the whole run's deadline comes first (then a timeout means the run's).
  const call = async (command: string, commandArgs: Record<string, unknown>): Promise<unknown> => {
    const left = deadline - Date.now();
    if (left <= 0) throw expired();
    try {
      return await execute(command, commandArgs, { timeout: Math.min(commandTimeout, left), signal });
    } catch (error) {
      if (error instanceof QgaTimeoutError && left < commandTimeout) throw expired(error);
      if (error instanceof QgaAbortedError)
        throw new QgaAbortedError(`${what} was aborted${running()}`, { cause: error.cause });
      throw error;
    }
  };

  try {
    pid = startedPid(await call('guest-exec', { ...args }));
  } catch (error) {
    if (!(error instanceof QgaCommandError)) throw error;
    // CommandNotFound: guest-exec itself is unknown or blocked; otherwise the desc says why the program failed.
    const blocked = error.errorClass === 'CommandNotFound';
    throw new QgaCommandError(error, {
      message: `the guest agent could not run ${what}: ${error.desc}`,
      hint: blocked
        ? "this guest agent does not allow guest-exec: see qemu-ga's --allow-rpcs / --block-rpcs in the guest"
        : 'argv[0] must be the path of a program in the guest (no shell runs it); check that it exists and is executable',
      cause: error,
    });
  }
  let delay = POLL_FIRST_MS;
  for (;;) {
    const status: GuestExecStatus = parseExecStatus(await call('guest-exec-status', { pid }), pid);
    if (status.exited) return execResult(pid, status);
    const left = deadline - Date.now();
    if (left <= 0) throw expired();
    try {
      await sleep(Math.min(delay, left), undefined, { signal });
    } catch (cause) {
      throw new QgaAbortedError(`${what} was aborted${running()}`, { cause: signal?.reason ?? cause });
    }
    delay = nextPollDelay(delay);
  }
}

const startedPid = (value: unknown): number => {
  const pid = (value as { pid?: unknown } | null)?.pid;
  if (typeof value === 'object' && Number.isSafeInteger(pid)) return pid as number;
  throw new QgaProtocolError(
    `the guest agent's guest-exec reply has no integer pid: ${JSON.stringify(value)}`,
  );
};
