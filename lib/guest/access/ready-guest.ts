// What a readiness wait watches besides its own polls: the guest's console (a kernel panic, the console ending as
// QEMU goes, systemd giving up on sshd) and, where QMP can be asked, a run state the guest never leaves by itself.

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

/**
 * A guest watched through its serial console: a kernel panic, the console ending (QEMU gone), or systemd failing to
 * start sshd (`sshd` tunes that watch) is a failure; so is what `runState` rejects with (a guest paused on a disk
 * error, say).
 */
export function consoleGuest(
  serial: Pick<SerialConsole, 'waitFor' | 'tail'>,
  sshd: Omit<SshdWatchOptions, 'tail'> = {},
  runState?: (signal: AbortSignal) => Promise<never>,
): ReadyGuest {
  const never = new Promise<never>(() => {});
  const tail = () => serial.tail(TAIL_LINES);
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
      runState ? Promise.race([consoleFailure(signal), runState(signal)]) : consoleFailure(signal),
  };
}
