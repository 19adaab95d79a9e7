// GuestAgent: one session with qemu-guest-agent over QEMU's unix socket: connect + sync, commands, exec, close.

import type net from 'node:net';
import type { Logger } from '../logger.js';
import type { GuestAgentInfo, GuestShutdownMode } from './commands.js';
import { armDeadline, checkSignal, checkTimeout, expiryError } from './deadline.js';
import { QgaArgumentError, QgaProtocolError } from './errors.js';
import { type GuestExecOptions, runGuestExec } from './exec.js';
import type { GuestExecResult } from './exec-status.js';
import { AgentSession, type OperationOptions } from './session.js';
import { openAgentSocket } from './socket.js';
import { AgentStreamReader } from './stream.js';

export interface GuestAgentSessionOptions {
  /** Default timeout of each command (`execute`, and each step of `exec`). Default 30 s. */
  commandTimeout?: number | undefined;
  /** Longest accepted reply line. Default 64 MiB (exec output is base64 in one line). */
  maxLineBytes?: number | undefined;
  /** First wait before the sync is sent again; it doubles up to 8 s. Default 1 s. */
  syncRetry?: number | undefined;
  /** A pino logger: lifecycle at debug, every line at trace; silent without one. */
  logger?: Logger | undefined;
}

export interface GuestAgentConnectOptions extends GuestAgentSessionOptions {
  /** Milliseconds for connecting and the first sync together. Default 10 s. */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface GuestShutdownOptions extends OperationOptions {
  /** Default `powerdown`. */
  mode?: GuestShutdownMode | undefined;
}

const DEFAULT_CONNECT_TIMEOUT = 10_000;
const DEFAULT_COMMAND_TIMEOUT = 30_000;

/** Checks a socket path argument; throws QGA_ARGUMENT. */
export const checkSocketPath = (path: unknown): string => {
  if (typeof path === 'string' && path !== '') return path;
  throw new QgaArgumentError(
    `Expected the guest agent socket path to be a non-empty string, got ${typeof path}`,
  );
};

/** Connects the socket within the deadline; the socket is destroyed on failure. */
export const connectAgentSocket = (path: string, options: OperationOptions): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const { socket, connected } = openAgentSocket(path);
    const disarm = armDeadline(options, (expiry) => {
      socket.destroy();
      reject(expiryError(`connecting to ${path}`, path, expiry, 'QEMU may be stuck; check the VM'));
    });
    connected.then(
      () => {
        disarm();
        resolve(socket);
      },
      (error: unknown) => {
        disarm();
        socket.destroy();
        reject(error);
      },
    );
  });

export class GuestAgent {
  readonly #session: AgentSession;
  readonly #commandTimeout: number;

  /** Wraps a session that is open; use `GuestAgent.connect()` or `waitForAgent()` to get one. */
  constructor(session: AgentSession, options: GuestAgentSessionOptions = {}) {
    this.#session = session;
    this.#commandTimeout = checkTimeout(options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT, 'commandTimeout');
  }

  /**
   * Connects to the agent socket and syncs the stream (0xFF, then `guest-sync-delimited`, repeated until the
   * agent answers): fails with QGA_CONNECT when QEMU is not there, QGA_TIMEOUT when the agent never answers.
   */
  static async connect(socketPath: string, options: GuestAgentConnectOptions = {}): Promise<GuestAgent> {
    const path = checkSocketPath(socketPath);
    const timeout = checkTimeout(options.timeout ?? DEFAULT_CONNECT_TIMEOUT, 'timeout');
    const signal = checkSignal(options.signal);
    checkSessionOptions(options);
    const deadline = Date.now() + timeout;
    const socket = await connectAgentSocket(path, { timeout, signal });
    const session = openSession(socket, path, options);
    try {
      await session.sync({ timeout: Math.max(1, deadline - Date.now()), signal });
    } catch (error) {
      session.destroy();
      throw error;
    }
    return new GuestAgent(session, options);
  }

  /** The socket path. */
  get label(): string {
    return this.#session.label;
  }

  /** Resolves once the session is over (never rejects): with the reason, or undefined after `close()`. */
  get closed(): Promise<Error | undefined> {
    return this.#session.closed;
  }

  /** Runs any agent command and resolves with its `return` value; QGA_EXECUTE carries the agent's error. */
  execute(command: string, args?: Record<string, unknown>, options: OperationOptions = {}): Promise<unknown> {
    try {
      const timeout = checkTimeout(options.timeout ?? this.#commandTimeout, 'timeout');
      const signal = checkSignal(options.signal);
      return this.#session.request(command, args, { timeout, signal });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `guest-ping`: resolves when the agent answers. */
  async ping(options: OperationOptions = {}): Promise<void> {
    await this.execute('guest-ping', undefined, options);
  }

  /** `guest-info`: the agent's version and supported commands. */
  async info(options: OperationOptions = {}): Promise<GuestAgentInfo> {
    const info = await this.execute('guest-info', undefined, options);
    const { version, supported_commands: commands } = (info ?? {}) as Partial<GuestAgentInfo>;
    if (typeof version !== 'string' || !Array.isArray(commands)) {
      throw new QgaProtocolError(`the guest agent's guest-info reply is malformed: ${JSON.stringify(info)}`);
    }
    return info as GuestAgentInfo;
  }

  /**
   * Runs argv[0] (a path; no shell) with the rest as its arguments, and resolves once it exits, whatever its
   * exit status: `{ exitCode, signal?, stdout, stderr, truncated }`. QGA_EXECUTE if it cannot be started.
   */
  exec(argv: readonly string[], options: GuestExecOptions = {}): Promise<GuestExecResult> {
    const execute = (command: string, args: Record<string, unknown>, step: OperationOptions) =>
      this.#session.request(command, args, step);
    return runGuestExec(execute, argv, options, this.#commandTimeout);
  }

  /** `guest-shutdown`: the agent answers only on failure, so success is a clean sync after it (or a hang-up). */
  shutdown(options: GuestShutdownOptions = {}): Promise<void> {
    try {
      const timeout = checkTimeout(options.timeout ?? this.#commandTimeout, 'timeout');
      const signal = checkSignal(options.signal);
      const args = options.mode === undefined ? undefined : { mode: options.mode };
      return this.#session.requestUnanswered('guest-shutdown', args, { timeout, signal });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Ends the session (idempotent): an operation still waiting fails with QGA_CLOSED. */
  async close(): Promise<void> {
    this.#session.destroy();
    await this.#session.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Checks the session options before anything connects; throws QGA_ARGUMENT naming the bad one. */
export const checkSessionOptions = (options: GuestAgentSessionOptions): void => {
  checkTimeout(options.commandTimeout ?? DEFAULT_COMMAND_TIMEOUT, 'commandTimeout');
  if (options.syncRetry !== undefined) checkTimeout(options.syncRetry, 'syncRetry');
  new AgentStreamReader(options.maxLineBytes);
};

/** A session over a connected socket, named by its path. */
export const openSession = (
  socket: net.Socket,
  path: string,
  options: GuestAgentSessionOptions,
): AgentSession =>
  new AgentSession(socket, {
    label: path,
    maxLineBytes: options.maxLineBytes,
    logger: options.logger,
    syncRetry: options.syncRetry,
  });
