// What is known about a running instance's QEMU (runtime.json, the pidfile, /proc), and whether a pid is really it.

import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../cidata/seed.js';
import { VIRTIOFS_SOCKET } from '../files.js';
import { processAlive, processStartTicks } from '../process-alive.js';
import { qmpSocketOf } from '../qemu/argv.js';
import { type InstancePaths, RUNTIME_FILES } from './layout.js';
import { qemuHolds } from './qemu-holders.js';

const runtimeSchema = z.object({
  pid: z.int().positive(),
  /** The process start time (clock ticks since boot, /proc/PID/stat field 22): a reused pid has another. */
  startTicks: z.string().optional(),
  startedAt: z.string(),
  binary: z.string(),
  accel: z.enum(['kvm', 'tcg']),
  /** Host port of the SSH forward qlaunch added at start, if the guest has SSH. */
  sshPort: z.int().optional(),
  /** The user QEMU dropped to: it cannot remove its pidfile, so its log says whether it shut down. */
  runAs: z.string().optional(),
  /** Where this boot's part of qemu.log starts. */
  qemuLogOffset: z.int().min(0).optional(),
});

export type RuntimeRecord = z.infer<typeof runtimeSchema>;

export async function readRuntime(path: string): Promise<RuntimeRecord | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return runtimeSchema.parse(JSON.parse(text));
  } catch {
    return undefined; // half-written by a killed command: the pidfile and /proc still tell the truth
  }
}

export const writeRuntime = (path: string, record: RuntimeRecord): Promise<void> =>
  writeFileAtomic(path, new TextEncoder().encode(`${JSON.stringify(record)}\n`), {
    durable: false,
    what: 'runtime record',
  });

export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  const pid = Number(text?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The QMP socket a process's argv names, read as QEMU reads it (commas in the path are doubled there). */
async function qmpSocketOfProcess(pid: number): Promise<string | undefined> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return qmpSocketOf(cmdline.split('\0').slice(1));
}

/**
 * True when recorded pid `pid` is alive and is the QEMU of this instance (the same start time, when recorded): its
 * argv names this instance's QMP socket, or it is a QEMU with the instance's files open (a home renamed under it).
 */
export async function isInstanceQemu(
  pid: number,
  paths: InstancePaths,
  startTicks?: string,
): Promise<boolean> {
  if (!processAlive(pid)) return false;
  if (startTicks !== undefined && (await processStartTicks(pid)) !== startTicks) return false;
  return (await qmpSocketOfProcess(pid)) === paths.qmp || (await qemuHolds(pid, paths.dir));
}

/** Remove what only means something while QEMU runs; never the disk, seed, key or logs. */
export async function removeRuntimeFiles(paths: InstancePaths): Promise<void> {
  // virtiofsd sockets are named by mount, so found by name.
  const sockets = (await readdir(paths.dir).catch(() => [] as string[])).filter((n) =>
    VIRTIOFS_SOCKET.test(n),
  );
  await Promise.all([
    ...RUNTIME_FILES.map((file) => rm(paths[file], { force: true })),
    ...sockets.map((name) => rm(join(paths.dir, name), { force: true })),
  ]);
}
