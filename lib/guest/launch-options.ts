// launch()'s options checked before anything starts: a value that means nothing is refused naming the option,
// not turned into a 4 ms "QEMU did not open its QMP socket in time".

import { stat } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

function checkMs(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(
      `${name} ${JSON.stringify(value)} is not a positive number of milliseconds`,
      `e.g. ${name}: 60_000`,
    );
  }
}

/** Throws on an option value that cannot mean anything; checks the binary exists when given as a path. */
export async function checkLaunchOptions(options: {
  startTimeout?: unknown;
  readyTimeout?: unknown;
  accel?: unknown;
  binary?: string | undefined;
}): Promise<void> {
  checkMs('startTimeout', options.startTimeout);
  checkMs('readyTimeout', options.readyTimeout);
  const accel = options.accel;
  if (accel !== undefined) {
    const name = (accel as { accel?: unknown } | null)?.accel;
    if (name !== 'kvm' && name !== 'tcg') {
      throw invalid(
        `accel ${JSON.stringify(accel)} is not an accelerator`,
        "give { accel: 'kvm' } or { accel: 'tcg' }, or leave it out to probe",
      );
    }
  }
  const binary = options.binary;
  if (binary?.includes('/')) {
    const found = await stat(binary).catch(() => undefined);
    if (!found?.isFile()) {
      throw new QlaunchError(
        ErrorCode.HOST_QEMU_MISSING,
        `QEMU binary ${binary} ${found ? 'is not a file' : 'does not exist'}`,
        { hint: 'give the path of a qemu-system-* binary, or leave `binary` out to find it on PATH' },
      );
    }
  }
}
