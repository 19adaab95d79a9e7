// Library errors as the page shows them: `{code, message, hint}`, as the CLI prints them, with an HTTP status (pure).

import { type ErrorCode, isQlaunchError } from '../errors.js';

export interface ErrorReply {
  code: string;
  message: string;
  hint?: string | undefined;
}

const BAD_REQUEST = new Set<string>([
  'USAGE',
  'INSTANCE_NAME_INVALID',
  'SPEC_INVALID',
  'SPEC_ARCH_UNSUPPORTED',
  'SPEC_FILE_MISSING',
  'MACHINE_INVALID',
  'MACHINE_UNKNOWN',
  'IMAGE_NAME_INVALID',
  'IMAGE_NOT_FOUND',
  'VM_SNAPSHOT_TAG_INVALID',
  'INSTANCE_PATH_TOO_LONG',
]);
const NOT_FOUND = new Set<string>(['INSTANCE_NOT_FOUND', 'VM_SNAPSHOT_NOT_FOUND', 'UI_NOT_FOUND']);
const CONFLICT = new Set<string>([
  'INSTANCE_EXISTS',
  'INSTANCE_BUSY',
  'INSTANCE_RUNNING',
  'INSTANCE_NOT_RUNNING',
  'INSTANCE_STILL_RUNNING',
  'VM_SNAPSHOT_EXISTS',
]);

/** The HTTP status for an error code: the caller's mistake (4xx) or the machine's (500). */
export function statusOf(code: ErrorCode | string): number {
  if (code === 'UI_UNAUTHORIZED') return 401;
  if (code === 'UI_FORBIDDEN') return 403;
  if (code === 'UI_METHOD') return 405;
  if (BAD_REQUEST.has(code)) return 400;
  if (NOT_FOUND.has(code)) return 404;
  if (CONFLICT.has(code)) return 409;
  return 500;
}

/** What the page shows of an error; an unexpected one says so, without a stack. */
export function errorReply(error: unknown): { status: number; body: ErrorReply } {
  if (isQlaunchError(error)) {
    return {
      status: statusOf(error.code),
      body: { code: error.code, message: error.message, hint: error.hint },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    status: 500,
    body: {
      code: 'UNEXPECTED',
      message: `unexpected error: ${message}`,
      hint: 'the terminal running `qlaunch ui` may say more; run it with --log-level debug',
    },
  };
}
