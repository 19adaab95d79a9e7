// launch()'s options checked before anything starts: a value that means nothing is refused naming the option,
// not turned into a 4 ms "QEMU did not open its QMP socket in time".

import { ErrorCode, QlaunchError } from '../errors.js';
import { resolveQemuBinary } from '../host/binaries.js';

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

function checkMs(name: string, value: unknown, other = ''): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(
      `${name} ${JSON.stringify(value)} is not a positive number of milliseconds${other && ` ${other}`}`,
      `e.g. ${name}: 60_000${other && ` (${other})`}`,
    );
  }
}

/** Throws unless `accel` is an accelerator choice qlaunch knows ({ accel: 'kvm' | 'tcg' }, maybe with a cpu). */
export function checkAccelChoice(accel: unknown): void {
  if (accel === undefined) return;
  const name = (accel as { accel?: unknown } | null)?.accel;
  if (name !== 'kvm' && name !== 'tcg') {
    throw invalid(
      `accel ${JSON.stringify(accel)} is not an accelerator`,
      "give { accel: 'kvm' } or { accel: 'tcg' }, or leave it out to probe",
    );
  }
}

/** Throws on an option value that cannot mean anything; checks the binary exists (a path, or a name on PATH). */
export async function checkLaunchOptions(options: {
  startTimeout?: unknown;
  readyTimeout?: unknown;
  firstOutputTimeout?: unknown;
  accel?: unknown;
  binary?: string | undefined;
}): Promise<void> {
  checkMs('startTimeout', options.startTimeout);
  checkMs('readyTimeout', options.readyTimeout);
  if (options.firstOutputTimeout !== false)
    checkMs('firstOutputTimeout', options.firstOutputTimeout, 'or false');
  checkAccelChoice(options.accel);
  if (options.binary !== undefined) await resolveQemuBinary(options.binary);
}
