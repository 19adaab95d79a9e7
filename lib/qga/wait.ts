// waitForAgent(): connect and sync until the guest's agent answers, for guests that are still booting.

import { setTimeout as sleep } from 'node:timers/promises';
import {
  checkSessionOptions,
  checkSocketPath,
  connectAgentSocket,
  GuestAgent,
  type GuestAgentSessionOptions,
  openSession,
} from './agent.js';
import { checkSignal } from './deadline.js';
import {
  AGENT_HINT,
  QgaAbortedError,
  QgaArgumentError,
  QgaClosedError,
  QgaConnectError,
  QgaTimeoutError,
} from './errors.js';
import { RETRYABLE_ERRNOS } from './socket.js';

export interface WaitForAgentOptions extends GuestAgentSessionOptions {
  /** Epoch milliseconds after which waiting fails with QGA_TIMEOUT. */
  deadline: number;
  /** Asked while waiting; once false (QEMU is gone) waiting fails at once with QGA_CONNECT. */
  alive?: (() => boolean) | undefined;
  signal?: AbortSignal | undefined;
}

/** How often `alive()` is asked: often enough that a dead VM fails fast, rarely enough to cost nothing. */
const ALIVE_POLL_MS = 250;
const FIRST_PAUSE_MS = 20;
const MAX_PAUSE_MS = 500;

class VmGone extends Error {}

/**
 * Resolves with a synced GuestAgent once the agent answers: retries while the socket is missing or refused
 * (QEMU starting) and resends the sync while the agent is not up (the guest booting; 30–60 s under TCG).
 */
export async function waitForAgent(socketPath: string, options: WaitForAgentOptions): Promise<GuestAgent> {
  const path = checkSocketPath(socketPath);
  const { deadline, alive } = options;
  if (typeof deadline !== 'number' || Number.isNaN(deadline)) {
    throw new QgaArgumentError(
      `Expected the \`deadline\` option to be a time in epoch milliseconds, got ${String(deadline)}`,
    );
  }
  if (alive !== undefined && typeof alive !== 'function') {
    throw new QgaArgumentError(`Expected the \`alive\` option to be a function, got ${typeof alive}`);
  }
  const userSignal = checkSignal(options.signal);
  checkSessionOptions(options);
  const started = Date.now();
  const watch = new AbortController();
  const checkAlive = (): void => {
    if (alive !== undefined && !watch.signal.aborted && !alive()) watch.abort(new VmGone());
  };
  const poll = setInterval(checkAlive, ALIVE_POLL_MS);
  const signal = userSignal === undefined ? watch.signal : AbortSignal.any([userSignal, watch.signal]);
  let lastError: Error | undefined;
  // Whatever failed, say first that the VM is gone or the caller aborted: that is the reason, not its echo.
  const reason = (error: unknown): unknown => {
    if (watch.signal.aborted) {
      return new QgaConnectError(path, undefined, `QEMU exited before the guest agent at ${path} answered`, {
        hint: "look at the VM's console output for why it stopped",
        cause: lastError,
      });
    }
    if (userSignal?.aborted) {
      return new QgaAbortedError(`waiting for the guest agent at ${path} was aborted`, {
        cause: userSignal.reason,
      });
    }
    return error;
  };
  try {
    let pause = FIRST_PAUSE_MS;
    for (;;) {
      checkAlive();
      const left = deadline - Date.now();
      if (signal.aborted) throw reason(undefined);
      if (left <= 0) {
        throw new QgaTimeoutError(
          `no answer from the guest agent at ${path} within ${Date.now() - started} ms${lastError && !(lastError instanceof QgaTimeoutError) ? ` (last: ${lastError.message})` : ''}`,
          { hint: AGENT_HINT, cause: lastError },
        );
      }
      try {
        const socket = await connectAgentSocket(path, { timeout: left, signal });
        const session = openSession(socket, path, options);
        try {
          await session.sync({ timeout: left, signal });
        } catch (error) {
          session.destroy();
          throw error;
        }
        return new GuestAgent(session, options);
      } catch (error) {
        if (!retryable(error)) throw reason(error);
        lastError = error as Error;
      }
      await sleep(Math.min(pause, Math.max(0, deadline - Date.now())), undefined, { signal }).catch(() => {});
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  } finally {
    clearInterval(poll);
  }
}

/**
 * QEMU not listening yet, the connection dropped while syncing (QEMU restarting the chardev), or the sync ran
 * into the deadline (the loop then reports the wait's own timeout): go round again.
 */
const retryable = (error: unknown): boolean =>
  (error instanceof QgaConnectError && RETRYABLE_ERRNOS.has(error.errno ?? '')) ||
  error instanceof QgaClosedError ||
  error instanceof QgaTimeoutError;
