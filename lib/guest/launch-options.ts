// launch()'s options checked before anything starts: a value that means nothing is refused naming the option,
// not turned into a 4 ms "QEMU did not open its QMP socket in time".

import { stat } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AccelChoice } from '../qemu/argv.js';

/** How `launch()` boots: probing, timeouts, readiness, cleanup. */
export interface LaunchOptions {
  logger?: Logger | undefined;
  /** Lines for people about choices made on their behalf (downloads, builds, firmware, boot steps). */
  onProgress?: ((line: string) => void) | undefined;
  /** How long QEMU gets to bring up QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing: use this binary (and this accelerator). */
  binary?: string | undefined;
  accel?: AccelChoice | undefined;
  /** Where the accelerator verdict is cached (default: the XDG cache dir). */
  cacheDir?: string | undefined;
  /** Firmware descriptor dirs, highest priority first (default: per-user, /etc/qemu, /usr/share/qemu). */
  firmwareDirs?: readonly string[] | undefined;
  /** Cloud guests: wait until SSH works and cloud-init is done (default true). */
  waitReady?: boolean | undefined;
  /** Cloud guests: milliseconds for readiness; default 5 min under TCG, 2 under KVM. */
  readyTimeout?: number | undefined;
  /** Cloud guests: keep the overlay, seed and key after the guest stops (default: delete them). */
  keep?: boolean | undefined;
  /** Aborting gives up the launch (and stops a guest that was already started). */
  signal?: AbortSignal | undefined;
}

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
