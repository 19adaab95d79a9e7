// Pure: checks a `guest-exec-status` reply and turns the finished one into exec()'s result.

import type { GuestExecStatus } from './commands.js';
import { QgaProtocolError } from './errors.js';

export interface GuestExecResult {
  /** The program's pid in the guest. */
  pid: number;
  /** As a shell reports it: the exit status, or 128 + the signal number when a signal ended the program. */
  exitCode: number;
  /** The signal that ended the program, if one did. */
  signal?: number | undefined;
  stdout: Buffer;
  stderr: Buffer;
  /** True when the agent cut stdout or stderr at its capture limit (16 MiB each in QEMU). */
  truncated: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Validates the reply's shape; throws QGA_PROTOCOL naming the member that is off. */
export const parseExecStatus = (value: unknown, pid: number): GuestExecStatus => {
  const fail = (what: string): never => {
    throw new QgaProtocolError(
      `the guest agent's guest-exec-status reply for pid ${pid} is malformed (${what}): ${JSON.stringify(value)}`,
    );
  };
  if (!isObject(value)) return fail('not an object');
  if (typeof value['exited'] !== 'boolean') return fail('"exited" is not a boolean');
  for (const key of ['exitcode', 'signal'] as const) {
    const n = value[key];
    if (n !== undefined && !Number.isSafeInteger(n)) fail(`"${key}" is not an integer`);
  }
  if (value['exited'] === true && value['exitcode'] === undefined && value['signal'] === undefined) {
    fail('exited without "exitcode" or "signal"');
  }
  for (const key of ['out-data', 'err-data'] as const) {
    const data = value[key];
    if (data !== undefined && (typeof data !== 'string' || !BASE64.test(data)))
      fail(`"${key}" is not base64`);
  }
  for (const key of ['out-truncated', 'err-truncated'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'boolean') fail(`"${key}" is not a boolean`);
  }
  return value as unknown as GuestExecStatus;
};

/** The result of a status with `exited: true`. */
export const execResult = (pid: number, status: GuestExecStatus): GuestExecResult => {
  const { exitcode, signal } = status;
  const result: GuestExecResult = {
    pid,
    exitCode: exitcode ?? 128 + (signal ?? 0),
    stdout: Buffer.from(status['out-data'] ?? '', 'base64'),
    stderr: Buffer.from(status['err-data'] ?? '', 'base64'),
    truncated: status['out-truncated'] === true || status['err-truncated'] === true,
  };
  if (signal !== undefined) result.signal = signal;
  return result;
};
