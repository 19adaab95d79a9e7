// Each QEMU binary's version and machine types, asked once per build and cached as the accelerator verdict is.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binaryStamp, defaultCacheDir } from './accel-cache.js';
import { listMachines, type MachineType } from './machines.js';
import { writePrivateJson } from './private-json.js';
import { parseQemuVersion } from './version.js';

export const MACHINE_CACHE_FILE = 'machines.json';
const FORMAT_VERSION = 1;

/** What one QEMU build offers; `qemuStamp` (size, mtime, inode) changes when the binary is upgraded. */
export interface MachineCatalog {
  qemuPath: string;
  qemuStamp: string;
  /** e.g. "7.2.22" */
  qemuVersion: string;
  machines: MachineType[];
}

const isCatalog = (value: unknown): value is MachineCatalog => {
  const entry = value as Partial<MachineCatalog> | null;
  return (
    typeof entry?.qemuPath === 'string' &&
    typeof entry.qemuStamp === 'string' &&
    typeof entry.qemuVersion === 'string' &&
    Array.isArray(entry.machines) &&
    entry.machines.every((m: Partial<MachineType>) => typeof m?.name === 'string')
  );
};

/** The cached catalogs; a missing, unreadable or foreign file is an empty cache, never an error. */
async function readCatalogs(file: string): Promise<MachineCatalog[]> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { version?: unknown; entries?: unknown };
    return data.version === FORMAT_VERSION && Array.isArray(data.entries)
      ? data.entries.filter(isCatalog)
      : [];
  } catch {
    return [];
  }
}

/** Asks `binary` for its version and machine types; undefined when it cannot say either. */
async function askQemu(binary: string): Promise<Omit<MachineCatalog, 'qemuPath' | 'qemuStamp'> | undefined> {
  const { execa } = await import('execa');
  const [run, machines] = await Promise.all([
    execa(binary, ['-version'], { reject: false, timeout: 5000, stdin: 'ignore' }),
    listMachines(binary),
  ]);
  const version = run.exitCode === 0 ? parseQemuVersion(String(run.stdout)) : undefined;
  return version && machines.length > 0 ? { qemuVersion: version.version, machines } : undefined;
}

/**
 * The version and machine types of the QEMU at `binary`, from the cache while the binary is the same build;
 * undefined when QEMU cannot say (then nothing can be checked, and QEMU itself will complain).
 */
export async function machineCatalog(
  binary: string,
  options: { cacheDir?: string | undefined; env?: NodeJS.ProcessEnv | undefined } = {},
): Promise<MachineCatalog | undefined> {
  const stamp = await binaryStamp(binary).catch(() => undefined);
  if (stamp === undefined) return undefined;
  const dir = options.cacheDir ?? defaultCacheDir(options.env);
  const file = join(dir, MACHINE_CACHE_FILE);
  const entries = await readCatalogs(file);
  const hit = entries.find((e) => e.qemuPath === binary && e.qemuStamp === stamp);
  if (hit) return hit;
  const asked = await askQemu(binary);
  if (!asked) return undefined;
  const catalog: MachineCatalog = { qemuPath: binary, qemuStamp: stamp, ...asked };
  // The answer stands even if it cannot be remembered (read-only home): the next start just asks again.
  await writePrivateJson(dir, MACHINE_CACHE_FILE, {
    version: FORMAT_VERSION,
    entries: [...entries.filter((e) => e.qemuPath !== binary), catalog],
  }).catch(() => {});
  return catalog;
}
