// Which QEMU processes have files of an instance directory open (its disk, seed, console log): evidence of a QEMU
// on the instance that holds even when its argv names another path (a renamed home) or its records are gone.

import { readdir, readlink, realpath } from 'node:fs/promises';
import { basename } from 'node:path';

const QEMU_SYSTEM = /^qemu-system-/;

/** Whether process `pid` runs a qemu-system binary (false when gone, or another user's). */
async function isQemuSystem(pid: number): Promise<boolean> {
  const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
  return QEMU_SYSTEM.test(basename(exe));
}

/** The directory as the kernel names it in /proc/PID/fd links (symlinks resolved), with a trailing slash. */
const realDir = async (dir: string): Promise<string> => `${await realpath(dir).catch(() => dir)}/`;

async function holds(pid: number, prefix: string): Promise<boolean> {
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    // A deleted file reads "PATH (deleted)": still under the directory, still held.
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith(prefix)) return true;
  }
  return false;
}

/** True when `pid` is a qemu-system process with a file under `dir` open. */
export async function qemuHolds(pid: number, dir: string): Promise<boolean> {
  return (await isQemuSystem(pid)) && holds(pid, await realDir(dir));
}

/** Every qemu-system process (that this user may look at) with a file under `dir` open. */
export async function qemuHolding(dir: string): Promise<number[]> {
  const prefix = await realDir(dir);
  const pids = (await readdir('/proc').catch(() => [] as string[]))
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
  const held = await Promise.all(pids.map(async (pid) => (await isQemuSystem(pid)) && holds(pid, prefix)));
  return pids.filter((_, i) => held[i]);
}
