// One lock per instance, so two commands cannot both start (or start and delete) it: a socket lock (socket-lock.ts),
// which the kernel releases the moment the holder exits, however it exits.

import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import { bindSocketLock, releaseSocketLock, socketLockName } from '../socket-lock.js';

export interface InstanceLock {
  release(): Promise<void>;
}

/** Write the instance's secret lock key (0600): other users cannot compute the lock's name, so cannot squat it. */
export async function createLockKey(path: string): Promise<void> {
  await writeFile(path, randomBytes(16).toString('hex'), { mode: 0o600, flag: 'wx' });
}

/** The abstract socket name for an instance (pure): a digest of its directory and its secret key. */
export const lockAddress = (dir: string, key: string): string => socketLockName(dir, key);

/** Take the lock of the instance `name` in `dir`, or fail at once with INSTANCE_BUSY naming what holds it. */
export async function acquireLock(
  name: string,
  dir: string,
  keyPath: string,
  doing: string,
): Promise<InstanceLock> {
  let key: string;
  try {
    key = (await readFile(keyPath, 'utf8')).trim();
  } catch (error) {
    throw new QlaunchError(
      ErrorCode.INSTANCE_NOT_FOUND,
      `instance ${name} is missing its lock key ${keyPath}`,
      {
        hint: `the instance directory ${dir} is incomplete: remove it with \`qlaunch rm ${name}\``,
        cause: error,
      },
    );
  }
  const server = await bindSocketLock(lockAddress(dir, key));
  if (!server) {
    throw new QlaunchError(
      ErrorCode.INSTANCE_BUSY,
      `instance ${name} is busy: another qlaunch command is working on it (could not ${doing} it)`,
      { hint: 'wait for the other command to finish, then try again' },
    );
  }
  return {
    release: () => releaseSocketLock(server),
  };
}
