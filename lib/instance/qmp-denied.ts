// A raw QMP command that made QEMU open a file it may not, once QEMU dropped root: said, with the way out.

import { ErrorCode, QlaunchError } from '../errors.js';
import { QmpCommandError } from '../qmp/index.js';
import type { InstancePaths } from './layout.js';
import { readRuntime } from './runtime.js';

/** `error`, or when QEMU (run as another user) was denied a file, the same failure with the fix named. */
export async function explainDenied(paths: InstancePaths, name: string, error: unknown): Promise<unknown> {
  if (!(error instanceof QmpCommandError) || !/Permission denied/i.test(error.desc)) return error;
  const runAs = (await readRuntime(paths.runtime))?.runAs;
  if (runAs === undefined) return error;
  return new QlaunchError(ErrorCode.QMP_EXECUTE, `${error.message} (QEMU runs as ${runAs})`, {
    hint: `make the file readable and writable by ${runAs}, in a directory ${runAs} can enter, or recreate ${name} with --run-as-root`,
    cause: error,
  });
}
