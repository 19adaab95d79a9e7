// launch()'s options checked before anything starts: a value that means nothing is refused naming the option,
// not turned into a 4 ms "QEMU did not open its QMP socket in time".

import { ErrorCode, QlaunchError } from '../errors.js';
import { resolveQemuBinary } from '../host/binaries.js';
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
  /** vhost-user descriptor dirs where virtiofsd is looked up, highest priority first (default: as QEMU's). */
  vhostUserDirs?: readonly string[] | undefined;
  /**
   * Cloud guests on private networks: where the networks' records live (default `<qlaunch home>/networks`; instances
   * under a root of their own keep theirs in `ROOT/.networks`).
   */
  networksDir?: string | undefined;
  /** Cloud guests: wait until SSH works and cloud-init is done (default true). */
  waitReady?: boolean | undefined;
  /** Cloud guests: milliseconds for readiness; default 5 min under TCG, 2 under KVM. */
  readyTimeout?: number | undefined;
  /**
   * Cloud guests booting from their disk: ms they may write nothing at all on the serial console before the disk is
   * taken to have nothing to boot (VM_NOTHING_TO_BOOT); default 60 s, false for no bound.
   */
  firstOutputTimeout?: number | false | undefined;
  /**
   * Warm clones: log in over SSH as part of readiness and keep that connection for `guest.ssh`'s commands, which then
   * skip SSH's handshake (`qlaunch run WARM -- CMD` does this). Default false: readiness is sshd's greeting, which
   * costs a clone driven over its agent less. Cold boots have no use for it and ignore it.
   */
  sshMaster?: boolean | undefined;
  /** Cloud guests: keep the overlay, seed and key after the guest stops (default: delete them). */
  keep?: boolean | undefined;
  /** Aborting gives up the launch (and stops a guest that was already started). */
  signal?: AbortSignal | undefined;
}

/** The launch's own signal ended it: nothing of it is left running. */
export const aborted = () =>
  new QlaunchError(ErrorCode.VM_ABORTED, 'the launch was aborted', { hint: 'nothing was left running' });

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
