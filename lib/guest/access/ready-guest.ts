// What a readiness wait watches besides its own polls: the guest's console (a kernel panic, the console ending as
// QEMU goes, systemd giving up on sshd, a disk boot that never writes a byte) and, where QMP can be asked, a run
// state the guest never leaves by itself.

import { ErrorCode, isQlaunchError, QlaunchError } from '../../errors.js';
import type { SerialConsole } from '../console/serial.js';
import { type SshdWatchOptions, watchSshd } from './sshd-failure.js';

/** What readiness needs of a running guest, so it can be tested without one. */
export interface ReadyGuest {
  /** Rejects as soon as the guest can no longer become ready; stops watching (never settling) once `signal` aborts. */
  watchFailure(signal: AbortSignal): Promise<never>;
  /** Rejects when the guest's sshd has failed for good; the wait aborts `signal` once SSH has answered. */
  watchSshd(signal: AbortSignal): Promise<never>;
  /** The last console lines, for error messages. */
  consoleTail(): string;
}

const PANIC = /Kernel panic - not syncing/;
const PANIC_END = /---\[ end Kernel panic[^\n]*/;
// The panic's trace follows its first line within milliseconds; this only bounds a console that stops mid-way.
const PANIC_TRACE_MS = 2000;
const TAIL_LINES = 25;
const ANY_OUTPUT = /[\s\S]/;

/** How long a guest booting from its disk may stay silent on its console: bootloaders and kernels speak at once. */
export const DEFAULT_FIRST_OUTPUT_MS = 60_000;

/**
 * The silence bound for a guest's console (PURE): none for a kernel boot (its console is the kernel's business) or
 * when turned off with `false`.
 */
export const firstOutputBound = (
  bootsFromDisk: boolean,
  option: number | false | undefined,
): number | undefined =>
  !bootsFromDisk || option === false ? undefined : (option ?? DEFAULT_FIRST_OUTPUT_MS);

// SeaBIOS and iPXE write to the screen only: a disk with nothing to boot leaves the serial console empty for good.
const nothingToBoot = (ms: number): QlaunchError =>
  new QlaunchError(
    ErrorCode.VM_NOTHING_TO_BOOT,
    `the guest wrote nothing on its serial console within ${ms / 1000} s of booting from its disk: the disk seems to have nothing to boot`,
    {
      hint: 'the disk seems to have nothing to boot (a blank or data-only disk has no bootloader): give a bootable image, or boot a kernel with the disk (a machine file with kernel:, initrd: and append:); if this guest does write its console elsewhere, raise firstOutputTimeout or set it to false',
    },
  );

/**
 * A guest watched through its serial console: a kernel panic, the console ending (QEMU gone), systemd failing to
 * start sshd (`sshd` tunes that watch), or no output at all within `firstOutputMs` (when given) is a failure; so is
 * what `runState` rejects with (a guest paused on a disk error, say).
 */
export function consoleGuest(
  serial: Pick<SerialConsole, 'waitFor' | 'tail'>,
  sshd: Omit<SshdWatchOptions, 'tail'> = {},
  runState?: (signal: AbortSignal) => Promise<never>,
  firstOutputMs?: number,
): ReadyGuest {
  const never = new Promise<never>(() => {});
  const tail = () => serial.tail(TAIL_LINES);
  const silence = async (signal: AbortSignal): Promise<never> => {
    if (firstOutputMs === undefined) return never;
    const error = await serial.waitFor(ANY_OUTPUT, { timeout: firstOutputMs, signal }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // A console that ended is the other watch's to report; an abort ends the watch.
    if (!signal.aborted && isQlaunchError(error, ErrorCode.VM_TIMEOUT)) throw nothingToBoot(firstOutputMs);
    return never;
  };
  const consoleFailure = async (signal: AbortSignal): Promise<never> => {
    try {
      const panic = await serial.waitFor(PANIC, { signal });
      await serial.waitFor(PANIC_END, { since: panic.end, timeout: PANIC_TRACE_MS, signal }).catch(() => {});
    } catch (error) {
      if (signal.aborted) return never;
      throw new QlaunchError(
        isQlaunchError(error) ? error.code : ErrorCode.VM_EXITED,
        `the guest stopped before it was ready: ${(error as Error).message}\nlast console lines:\n${serial.tail(TAIL_LINES)}`,
        { hint: 'the console lines above say why the guest stopped', cause: error },
      );
    }
    if (signal.aborted) return never;
    throw new QlaunchError(
      ErrorCode.VM_KERNEL_PANIC,
      `the guest kernel panicked; last console lines:\n${serial.tail(TAIL_LINES)}`,
      { hint: 'check the kernel, initrd and append line, and that the root disk is attached' },
    );
  };
  return {
    consoleTail: tail,
    watchSshd: (signal) => watchSshd(serial, signal, { ...sshd, tail }),
    watchFailure: (signal) =>
      Promise.race([consoleFailure(signal), silence(signal), ...(runState ? [runState(signal)] : [])]),
  };
}
