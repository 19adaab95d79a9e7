// Device state in and out of QEMU over QMP migration, RAM left on its shared file (`x-ignore-shared`): out through a
// unix socket qlaunch listens on, in from an fd QEMU inherited at spawn. Never `exec:` (a shell, and the sandbox).
// Out is not an inherited fd: QEMU 7.2's outgoing `fd:` takes only a name given by `getfd` (SCM_RIGHTS, which Node
// cannot send), and answers "File descriptor named '3' has not been found" to a number.

import { createWriteStream } from 'node:fs';
import { chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';

// query-migrate is cheap; a device-state-only stream completes in tens of milliseconds.
const POLL_MS = 10;
const DEFAULT_TIMEOUT_MS = 120_000;

/** RAM on a shared memory backend stays out of the stream: it is already in its file. */
export async function ignoreSharedRam(qmp: QmpClient): Promise<void> {
  await qmp.execute('migrate-set-capabilities', {
    capabilities: [{ capability: 'x-ignore-shared', state: true }],
  });
}

/** Resolves when the migration (either side) has completed; rejects with QEMU's reason when it failed. */
export async function waitMigrated(
  qmp: QmpClient,
  code: 'save' | 'restore',
  timeout = DEFAULT_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const info = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string };
    if (info.status === 'completed') return;
    if (info.status === 'failed' || info.status === 'cancelled' || Date.now() > deadline) {
      const why =
        info['error-desc'] ?? (info.status === 'failed' ? 'migration failed' : `status ${info.status}`);
      throw new QlaunchError(
        code === 'save' ? ErrorCode.WARM_SAVE_FAILED : ErrorCode.WARM_RESTORE_FAILED,
        `${code === 'save' ? 'saving' : 'restoring'} the machine state failed: ${why}`,
        {
          hint:
            code === 'save' ? 'warm it again' : 'warm it again (the saved state does not load on this QEMU)',
        },
      );
    }
    await sleep(POLL_MS);
  }
}

/** Whether every directory on the way to `dir` lets any user through (the others' x bit). */
async function searchableByAll(dir: string): Promise<boolean> {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const mode = (await stat(d).catch(() => undefined))?.mode ?? 0;
    if ((mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

/**
 * Where the state socket's private directory goes: the temp dir, unless QEMU's own user could not walk to it (a
 * private TMPDIR under root); then /tmp, which every user can search.
 */
async function socketBase(qemuUser: { uid: number } | undefined): Promise<string> {
  if (!qemuUser || (await searchableByAll(tmpdir()))) return tmpdir();
  return '/tmp';
}

/**
 * Migrate the stopped guest's device state into `file` (0600); resolves with its size in bytes. `qemuUser`: the ids
 * QEMU dropped to (`-runas`), given the socket and its private directory, so it can connect and no one else can.
 */
export async function saveDeviceState(
  qmp: QmpClient,
  file: string,
  qemuUser?: { uid: number; gid: number },
): Promise<number> {
  const dir = await mkdtemp(join(await socketBase(qemuUser), 'qlaunch-mig-'));
  const path = join(dir, 'state.sock');
  const server = createServer();
  try {
    if (qemuUser) await chown(dir, qemuUser.uid, qemuUser.gid);
    const connected = new Promise<Socket>((resolve) =>
      server.once('connection', (socket) => {
        // One stream, from the QEMU just told to connect: nothing else is accepted.
        server.close();
        resolve(socket);
      }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    if (qemuUser) await chown(path, qemuUser.uid, qemuUser.gid);
    const out = createWriteStream(file, { mode: 0o600, flags: 'wx' });
    const written = connected.then((socket) => pipeline(socket, out));
    // Unhandled until awaited below; a failed migration rejects there instead.
    written.catch(() => {});
    await ignoreSharedRam(qmp);
    try {
      await qmp.execute('migrate', { uri: `unix:${path}` });
      await waitMigrated(qmp, 'save');
    } catch (error) {
      if (!qemuUser || !/Permission denied/.test((error as Error).message)) throw error;
      // QEMU's user must be able to walk to the socket's directory.
      throw new QlaunchError(
        ErrorCode.WARM_SAVE_FAILED,
        `QEMU (uid ${qemuUser.uid}) cannot reach ${path} to save the machine state`,
        {
          hint: `make ${dirname(dir)} searchable by every user (chmod o+x), or set TMPDIR to such a directory`,
          cause: error,
        },
      );
    }
    await written;
    return out.bytesWritten;
  } finally {
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Load the device state from `fd` (inherited by QEMU at spawn, QEMU started with `-incoming defer`). */
export async function loadDeviceState(qmp: QmpClient, fd: number): Promise<void> {
  await ignoreSharedRam(qmp);
  await qmp.execute('migrate-incoming', { uri: `fd:${fd}` });
  await waitMigrated(qmp, 'restore');
}
