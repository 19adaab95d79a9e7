// A still picture of a guest's screen: QMP `screendump` into a directory of its own that QEMU may write (QEMU may
// run as an unprivileged user), read back, and the directory removed.

import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { QmpCommandError } from '../qmp/errors.js';
import type { QmpClient } from '../qmp/index.js';

export type ScreenFormat = 'png' | 'ppm';

/** The effective user and group of process `pid` (/proc/PID/status), or undefined when it cannot be read. */
async function processOwner(pid: number): Promise<{ uid: number; gid: number } | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+\\d+\\s+(\\d+)`, 'm').exec(status)?.[1]);
  const uid = field('Uid');
  const gid = field('Gid');
  return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
}

/** VM_NO_SCREEN for `what` (e.g. `instance web`), with how to give it a screen. */
export const noScreen = (what: string, cause?: unknown): QlaunchError =>
  new QlaunchError(ErrorCode.VM_NO_SCREEN, `${what} has no screen`, {
    hint: 'give it one with --display vnc (create, run) or display: vnc (launch)',
    cause,
  });

/**
 * The screen of the guest whose QEMU is `pid` on `qmp`, as PNG (or PPM) bytes. A guest without a screen is
 * VM_NO_SCREEN, naming how to give it one (`what` names the guest in the message).
 */
export async function screendump(
  qmp: Pick<QmpClient, 'execute'>,
  pid: number,
  options: { format?: ScreenFormat | undefined; what?: string | undefined } = {},
): Promise<Buffer> {
  const format = options.format ?? 'png';
  const dir = await mkdtemp(join(tmpdir(), 'qlaunch-screen-'));
  try {
    const owner = await processOwner(pid);
    // Root hands the directory to an unprivileged QEMU; anyone else already is QEMU's user.
    if (owner && process.getuid?.() === 0 && owner.uid !== 0) await chown(dir, owner.uid, owner.gid);
    const file = join(dir, `screen.${format}`);
    try {
      await qmp.execute('screendump', { filename: file, format });
    } catch (error) {
      if (error instanceof QmpCommandError && /no (graphic )?console/i.test(error.desc)) {
        throw noScreen(options.what ?? 'the guest', error);
      }
      throw error;
    }
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
