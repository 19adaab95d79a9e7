// One lock over a networks directory, so that concurrent commands never hand out one address twice or give two
// networks one subnet: a socket lock, waited for (the work under it is a read and a write).

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import { notADirectory } from '../image/store-location.js';
import { bindSocketLock, releaseSocketLock, socketLockName } from '../socket-lock.js';

/** The secret key file in a networks directory; its dot keeps it out of the record names. */
export const NETWORKS_LOCK_KEY = '.lock.key';

// Long enough for any holder's read and write on a loaded host; a holder stuck longer is a bug to report.
const WAIT_MS = 15_000;
const POLL_MS = 25;

/** The directory's key, made on first use: linked into place, so two first users never end up with two keys. */
async function lockKey(dir: string): Promise<string> {
  const path = join(dir, NETWORKS_LOCK_KEY);
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing) return existing.trim();
  const temp = join(dir, `.lock.key.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, randomBytes(16).toString('hex'), { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temp, { force: true });
  }
  return (await readFile(path, 'utf8')).trim();
}

/** A file where the networks directory belongs: never ours to delete. */
export const networksNotDirectory = (dir: string): QlaunchError =>
  notADirectory(dir, 'its private networks', `mv ${dir} ${dir}.moved`);

/** Run `work` holding the lock of networks directory `dir` (made 0700 if missing); waits while another holds it. */
export async function withNetworksLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
    throw error.code === 'EEXIST' || error.code === 'ENOTDIR' ? networksNotDirectory(dir) : error;
  });
  const address = socketLockName(dir, await lockKey(dir));
  const deadline = Date.now() + WAIT_MS;
  let server = await bindSocketLock(address);
  while (!server) {
    if (Date.now() > deadline) {
      throw new QlaunchError(
        ErrorCode.NETWORK_BUSY,
        `the private networks in ${dir} stayed locked by another qlaunch command for ${WAIT_MS / 1000} s`,
        { hint: 'wait for the other qlaunch command to finish (or end it), then try again' },
      );
    }
    await sleep(POLL_MS);
    server = await bindSocketLock(address);
  }
  try {
    return await work();
  } finally {
    await releaseSocketLock(server);
  }
}
