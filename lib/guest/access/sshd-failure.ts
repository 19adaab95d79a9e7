// Telling from a guest's serial console that its sshd failed to start and is not coming back by itself.

import { ErrorCode, QlaunchError } from '../../errors.js';
import type { SerialConsole, SerialMatch } from '../console/serial.js';

// systemd colours its status lines, and cuts a unit name that does not fit the console with "…".
const COLOUR = String.raw`(?:\x1b\[[0-9;]*m)*`;

/**
 * systemd's `[FAILED]` console line for a start of OpenSSH's unit: ssh.service (Debian, Ubuntu) or sshd.service
 * (Fedora), maybe cut short, or only its description as systemd before 250 prints it. The kernel-log copy of the
 * same message has no `[FAILED]`, so one failure counts once.
 */
export const SSHD_START_FAILED = new RegExp(
  `FAILED${COLOUR}\\] Failed to start ${COLOUR}(?:(sshd?)(?:\\.service|\\.[a-z]*…|…)|[^\\n]*?(?:OpenBSD Secure Shell server|OpenSSH server daemon))`,
);

/** How many failed sshd starts the console text shows (PURE). */
export const sshdStartFailures = (text: string): number =>
  text.match(new RegExp(SSHD_START_FAILED.source, 'g'))?.length ?? 0;

/** systemd stops restarting a unit after this many failed starts in a row (its default StartLimitBurst). */
export const START_LIMIT_BURST = 5;

/**
 * How long SSH gets to answer after a failed sshd start: systemd restarts sshd within a second or two, but once a
 * getty holds the console systemd shows no more status lines, so later failures (and its giving up) stay unseen.
 */
export const SSHD_SETTLE_MS = 30_000;

export interface SshdWatchOptions {
  /** Milliseconds from the last failure seen to giving up (default SSHD_SETTLE_MS). */
  settleMs?: number | undefined;
  /** The error's hint: how to get the guest's sshd going again (default: what to run in the guest). */
  fix?: ((unit: string) => string) | undefined;
  /** The last console lines, for the message. */
  tail: () => string;
}

/** What to run in the guest when its sshd cannot start (a seed that repairs keys at boot was not enough). */
export const guestSshdFix = (unit: string): string =>
  `\`journalctl -b -u ${unit}\` in the guest says why; a guest killed during its first boot can be left with empty SSH host keys: \`cloud-init clean\` and a reboot run that boot again`;

type Next = SerialMatch | 'quiet' | 'stopped';

/** The next failure after `since`, 'quiet' when none comes within `quietMs`, 'stopped' on abort or console end. */
async function nextFailure(
  serial: Pick<SerialConsole, 'waitFor'>,
  since: number,
  signal: AbortSignal,
  quietMs: number | undefined,
): Promise<Next> {
  const quiet = new AbortController();
  const timer = quietMs === undefined ? undefined : setTimeout(() => quiet.abort(), quietMs);
  try {
    return await serial.waitFor(SSHD_START_FAILED, {
      since,
      signal: AbortSignal.any([signal, quiet.signal]),
    });
  } catch {
    return quiet.signal.aborted && !signal.aborted ? 'quiet' : 'stopped';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Rejects with VM_SSHD_FAILED once the console has shown sshd failing START_LIMIT_BURST times, or `settleMs` after
 * the last failure it showed; the caller aborts `signal` as soon as SSH answers. Never settles once `signal` aborts
 * or the console ends (QEMU exiting is for another watch to report).
 */
export async function watchSshd(
  serial: Pick<SerialConsole, 'waitFor'>,
  signal: AbortSignal,
  options: SshdWatchOptions,
): Promise<never> {
  const settleMs = options.settleMs ?? SSHD_SETTLE_MS;
  let since = 0;
  let failures = 0;
  let unit = 'ssh';
  while (failures < START_LIMIT_BURST) {
    const next = await nextFailure(serial, since, signal, failures === 0 ? undefined : settleMs);
    if (next === 'stopped') return new Promise<never>(() => {});
    if (next === 'quiet') break;
    since = next.end;
    failures += 1;
    unit = next.groups[0] ?? unit;
  }
  const what =
    failures >= START_LIMIT_BURST
      ? `${failures} times, and systemd gives up after that many`
      : `(${failures === 1 ? 'once' : `${failures} times`} on the console) and SSH did not answer in the ${settleMs / 1000} s after`;
  throw new QlaunchError(
    ErrorCode.VM_SSHD_FAILED,
    `sshd in the guest failed to start ${what}; last console lines:\n${options.tail()}`,
    { hint: (options.fix ?? guestSshdFix)(unit) },
  );
}
