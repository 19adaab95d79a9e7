// The one place where qlaunch's error codes live; every thrown error is a QlaunchError with one of them.

export const ErrorCode = {
  // QMP protocol and session
  QMP_CONNECT: 'QMP_CONNECT',
  QMP_GREETING: 'QMP_GREETING',
  QMP_NEGOTIATION: 'QMP_NEGOTIATION',
  QMP_EXECUTE: 'QMP_EXECUTE',
  QMP_CLOSED: 'QMP_CLOSED',
  QMP_PROTOCOL: 'QMP_PROTOCOL',
  QMP_TIMEOUT: 'QMP_TIMEOUT',
  QMP_ABORTED: 'QMP_ABORTED',
  QMP_STATE: 'QMP_STATE',
  QMP_ARGUMENT: 'QMP_ARGUMENT',
  // Guest agent (qemu-guest-agent) sessions
  QGA_CONNECT: 'QGA_CONNECT',
  QGA_TIMEOUT: 'QGA_TIMEOUT',
  QGA_ABORTED: 'QGA_ABORTED',
  QGA_EXECUTE: 'QGA_EXECUTE',
  QGA_CLOSED: 'QGA_CLOSED',
  QGA_PROTOCOL: 'QGA_PROTOCOL',
  QGA_ARGUMENT: 'QGA_ARGUMENT',
  // Host probing
  HOST_QEMU_MISSING: 'HOST_QEMU_MISSING',
  HOST_TOOL_MISSING: 'HOST_TOOL_MISSING',
  HOST_ACCEL_UNAVAILABLE: 'HOST_ACCEL_UNAVAILABLE',
  HOST_FIRMWARE_MISSING: 'HOST_FIRMWARE_MISSING',
  HOST_PRIVILEGE_MISSING: 'HOST_PRIVILEGE_MISSING',
  HOST_EMULATION_UNAVAILABLE: 'HOST_EMULATION_UNAVAILABLE',
  // Machine specs and argv
  SPEC_INVALID: 'SPEC_INVALID',
  SPEC_ARCH_UNSUPPORTED: 'SPEC_ARCH_UNSUPPORTED',
  SPEC_FILE_MISSING: 'SPEC_FILE_MISSING',
  // Machine files and templates
  MACHINE_INVALID: 'MACHINE_INVALID',
  MACHINE_UNKNOWN: 'MACHINE_UNKNOWN',
  // A running VM
  VM_START_FAILED: 'VM_START_FAILED',
  VM_EXITED: 'VM_EXITED',
  VM_TIMEOUT: 'VM_TIMEOUT',
  VM_PORT_FORWARD: 'VM_PORT_FORWARD',
  VM_ABORTED: 'VM_ABORTED',
  VM_KERNEL_PANIC: 'VM_KERNEL_PANIC',
  VM_IO_ERROR: 'VM_IO_ERROR',
  VM_SSH: 'VM_SSH',
  VM_UNSUPPORTED: 'VM_UNSUPPORTED',
  VM_EXEC_FAILED: 'VM_EXEC_FAILED',
  VM_SSHD_FAILED: 'VM_SSHD_FAILED',
  VM_CLOUD_INIT_FAILED: 'VM_CLOUD_INIT_FAILED',
  VM_SNAPSHOT: 'VM_SNAPSHOT',
  VM_SNAPSHOT_TAG_INVALID: 'VM_SNAPSHOT_TAG_INVALID',
  VM_SNAPSHOT_NOT_FOUND: 'VM_SNAPSHOT_NOT_FOUND',
  VM_SNAPSHOT_EXISTS: 'VM_SNAPSHOT_EXISTS',
  // Seed images
  SEED_INVALID: 'SEED_INVALID',
  SEED_TOO_LARGE: 'SEED_TOO_LARGE',
  SEED_WRITE: 'SEED_WRITE',
  SEED_OUTPUT_REFUSED: 'SEED_OUTPUT_REFUSED',
  // Building images
  IMAGE_BUILD_INVALID: 'IMAGE_BUILD_INVALID',
  IMAGE_BUILD_FAILED: 'IMAGE_BUILD_FAILED',
  IMAGE_BUILD_ABORTED: 'IMAGE_BUILD_ABORTED',
  // The base image store
  IMAGE_NAME_INVALID: 'IMAGE_NAME_INVALID',
  IMAGE_NOT_FOUND: 'IMAGE_NOT_FOUND',
  IMAGE_EXISTS: 'IMAGE_EXISTS',
  IMAGE_INVALID: 'IMAGE_INVALID',
  IMAGE_STORE: 'IMAGE_STORE',
  IMAGE_DOWNLOAD_FAILED: 'IMAGE_DOWNLOAD_FAILED',
  IMAGE_CHECKSUM_INVALID: 'IMAGE_CHECKSUM_INVALID',
  IMAGE_CHECKSUM_MISMATCH: 'IMAGE_CHECKSUM_MISMATCH',
  IMAGE_ABORTED: 'IMAGE_ABORTED',
  IMAGE_TOOL_FAILED: 'IMAGE_TOOL_FAILED',
  IMAGE_OVERLAY_INVALID: 'IMAGE_OVERLAY_INVALID',
  IMAGE_IN_USE: 'IMAGE_IN_USE',
  // Named instances
  INSTANCE_NAME_INVALID: 'INSTANCE_NAME_INVALID',
  INSTANCE_PATH_TOO_LONG: 'INSTANCE_PATH_TOO_LONG',
  INSTANCE_NOT_FOUND: 'INSTANCE_NOT_FOUND',
  INSTANCE_EXISTS: 'INSTANCE_EXISTS',
  INSTANCE_BUSY: 'INSTANCE_BUSY',
  INSTANCE_RUNNING: 'INSTANCE_RUNNING',
  INSTANCE_NOT_RUNNING: 'INSTANCE_NOT_RUNNING',
  INSTANCE_STILL_RUNNING: 'INSTANCE_STILL_RUNNING',
  INSTANCE_CONFIG_INVALID: 'INSTANCE_CONFIG_INVALID',
  // qlaunch's home: something that is not a directory where one of its directories belongs
  PATH_NOT_DIRECTORY: 'PATH_NOT_DIRECTORY',
  // CLI usage
  USAGE: 'USAGE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface QlaunchErrorOptions {
  /** What the user can do about it, one sentence. */
  hint?: string | undefined;
  cause?: unknown;
}

/** Base of every error qlaunch throws: a stable `code`, a message naming the thing, and a hint naming the fix. */
export class QlaunchError extends Error {
  override name = 'QlaunchError';
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: QlaunchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
  }
}

export const isQlaunchError = (error: unknown, code?: ErrorCode): error is QlaunchError =>
  error instanceof QlaunchError && (code === undefined || error.code === code);
