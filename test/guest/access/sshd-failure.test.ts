// Telling a failed sshd from the console, without a guest: systemd's status lines as guests print them.
import t from 'tap';
import { ErrorCode, isQlaunchError, type QlaunchError } from '../../../lib/errors.js';
import { consoleGuest } from '../../../lib/guest/access/ready-guest.js';
import {
  SSHD_START_FAILED,
  START_LIMIT_BURST,
  sshdStartFailures,
} from '../../../lib/guest/access/sshd-failure.js';
import { SerialConsole } from '../../../lib/guest/console/serial.js';

const ESC = '\x1b';
/** Debian 12 (systemd 252) on an 80-column serial console: coloured, the unit name cut with "…". */
const DEBIAN_12 = `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mssh.servic…[0m - OpenBSD Secure Shell server.\r\r\n`;
const DEBIAN_12_WHOLE = `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mssh.service${ESC}[0m - OpenBSD Secure Shell server.\r\n`;
const DEBIAN_11 = `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start OpenBSD Secure Shell server.\r\n`;
const FEDORA = '[FAILED] Failed to start sshd.service - OpenSSH server daemon.\n';
const SEE = "See 'systemctl status ssh.service' for details.\r\r\n";

t.test(
  'the pattern: systemd status lines for a failed ssh/sshd start, however coloured or cut',
  async (t) => {
    for (const [name, line, unit] of [
      ['Debian 12, cut', DEBIAN_12, 'ssh'],
      ['Debian 12, whole', DEBIAN_12_WHOLE, 'ssh'],
      ['Debian 11, description only', DEBIAN_11, undefined],
      ['Fedora, plain', FEDORA, 'sshd'],
      ['a name cut to nothing', '[FAILED] Failed to start ssh… - OpenBSD Secure Shell server.\n', 'ssh'],
    ] as const) {
      const match = SSHD_START_FAILED.exec(line);
      t.ok(match, name);
      t.equal(match?.[1], unit, `${name}: the unit`);
    }
    for (const [name, line] of [
      [
        'the kernel-log copy',
        '[   81.0] systemd[1]: Failed to start ssh.service - OpenBSD Secure Shell server.\n',
      ],
      [
        'another unit',
        `[${ESC}[0;1;31mFAILED${ESC}[0m] Failed to start ${ESC}[0;1;39mcloud-initM…[0m - Initial cloud-init job.\n`,
      ],
      [
        'a key generation unit',
        '[FAILED] Failed to start sshd-keygen@rsa.service - OpenSSH rsa Server Key Generation.\n',
      ],
      ['a start', `         Starting ${ESC}[0;1;39mssh.service${ESC}[0m - OpenBSD Secure Shell server...\n`],
      [
        'a success',
        `[${ESC}[0;32m  OK  ${ESC}[0m] Started ${ESC}[0;1;39mssh.service${ESC}[0m - OpenBSD Secure Shell server.\n`,
      ],
      ['a stop', '[  OK  ] Stopped ssh.service - OpenBSD Secure Shell server.\n'],
    ] as const) {
      t.notOk(SSHD_START_FAILED.test(line), name);
    }
    t.equal(sshdStartFailures(`${DEBIAN_12}${SEE}[  OK  ] Stopped ssh.service\n${DEBIAN_12}${SEE}`), 2);
    t.equal(sshdStartFailures('[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\n'), 0);
  },
);

/** Whether `promise` settles within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

const failureOf = async (watch: Promise<never>): Promise<QlaunchError> => {
  const error = await watch.catch((e: unknown) => e);
  if (!isQlaunchError(error)) throw error;
  return error;
};

t.test(
  'one failure, then no SSH for the settle time: VM_SSHD_FAILED with the console and the fix',
  async (t) => {
    const serial = new SerialConsole();
    const started = Date.now();
    const watch = consoleGuest(serial, { settleMs: 300 }).watchSshd(new AbortController().signal);
    serial.push(Buffer.from(`Starting ssh.service\n${DEBIAN_12}${SEE}`));
    const error = await failureOf(watch);
    const elapsed = Date.now() - started;
    t.equal(error.code, ErrorCode.VM_SSHD_FAILED);
    t.match(
      error.message,
      /^sshd in the guest failed to start \(once on the console\) and SSH did not answer/,
    );
    t.match(
      error.message,
      /did not answer in the 0.3 s after; last console lines:\nStarting ssh.service\n.*Failed to start .*ssh\.servic/,
    );
    t.match(error.hint, /journalctl -b -u ssh.*cloud-init clean/);
    t.ok(elapsed >= 280 && elapsed < 2000, `gave up ${elapsed} ms after the failure (settle 300 ms)`);
  },
);

t.test(
  "systemd's start limit worth of failures fails at once; each failure restarts the settle time",
  async (t) => {
    const serial = new SerialConsole();
    const watch = consoleGuest(serial, { settleMs: 60_000 }).watchSshd(new AbortController().signal);
    const started = Date.now();
    serial.push(Buffer.from(`${DEBIAN_12}${SEE}`.repeat(START_LIMIT_BURST)));
    const error = await failureOf(watch);
    t.match(error.message, /failed to start 5 times, and systemd gives up after that many/);
    t.ok(Date.now() - started < 1000, `${Date.now() - started} ms, not the 60 s settle time`);

    const slow = new SerialConsole();
    const fix = (unit: string) => `restart ${unit}`;
    const slowWatch = consoleGuest(slow, { settleMs: 400, fix }).watchSshd(new AbortController().signal);
    const begun = Date.now();
    slow.push(Buffer.from(FEDORA));
    setTimeout(() => slow.push(Buffer.from(FEDORA)), 250);
    const later = await failureOf(slowWatch);
    t.ok(Date.now() - begun >= 600, `${Date.now() - begun} ms: settled 400 ms after the second failure`);
    t.match(later.message, /\(2 times on the console\)/);
    t.equal(later.hint, 'restart sshd', 'the fix gets the unit the console named');
  },
);

t.test(
  'SSH answering (abort), the console ending, or no failure at all: the watch never settles',
  async (t) => {
    const answered = new SerialConsole();
    const controller = new AbortController();
    const watch = consoleGuest(answered, { settleMs: 200 }).watchSshd(controller.signal);
    answered.push(Buffer.from(DEBIAN_12));
    setTimeout(() => controller.abort(), 50);
    t.notOk(await settlesWithin(watch, 500), 'a restart that worked is no failure');

    const ended = new SerialConsole();
    const endedWatch = consoleGuest(ended, { settleMs: 200 }).watchSshd(new AbortController().signal);
    ended.push(Buffer.from(DEBIAN_12));
    ended.end();
    t.notOk(await settlesWithin(endedWatch, 500), "QEMU exiting is the failure watch's to report");

    const healthy = new SerialConsole();
    const healthyWatch = consoleGuest(healthy, { settleMs: 100 }).watchSshd(new AbortController().signal);
    healthy.push(Buffer.from('[  OK  ] Started ssh.service - OpenBSD Secure Shell server.\n'));
    t.notOk(await settlesWithin(healthyWatch, 400));
    healthy.end();
  },
);
