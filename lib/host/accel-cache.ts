// The accelerator verdict cache: one JSON file, entries keyed by host boot + QEMU binary, private to the user.

import { readFile, stat } from 'node:fs/promises';
import { homedir, release } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { Arch } from '../arch/table.js';
import { writePrivateJson } from './private-json.js';
import type { AccelVerdict } from './types.js';

export const ACCEL_CACHE_FILE = 'accel.json';
const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id';
const FORMAT_VERSION = 1;

/** What makes a verdict stale: a reboot (KVM module, its parameters, firmware settings) or another QEMU build. */
export interface AccelCacheKey {
  arch: Arch;
  kernelRelease: string;
  bootId: string;
  qemuPath: string;
  /** Size, mtime and inode of the binary: a changed QEMU build changes it, without running QEMU to ask. */
  qemuStamp: string;
}

export interface AccelCacheEntry {
  key: AccelCacheKey;
  verdict: Omit<AccelVerdict, 'cached'>;
  /** The CPU model QEMU accepted under KVM, even if the guest then hung: what a forced `--accel kvm` should use. */
  kvmCpu?: string | undefined;
  probedAt: string;
}

/**
 * `$QLAUNCH_HOME/cache` when QLAUNCH_HOME is set (the image store and instances keep to it too), else
 * `${XDG_CACHE_HOME:-~/.cache}/qlaunch`; XDG says to ignore a relative XDG_CACHE_HOME.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  // Read here, not from lib/image's qlaunchHome: the host layer imports nothing above it. Same rule: relative is cwd's.
  const own = env['QLAUNCH_HOME'];
  if (own) return join(resolve(own), 'cache');
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'qlaunch');
}

/** Identity of a binary file for cache keys; following symlinks, as exec does. */
export async function binaryStamp(path: string): Promise<string> {
  const info = await stat(path);
  return `${info.size}:${info.mtimeMs}:${info.ino}`;
}

/** This boot of this kernel; the boot id is "unknown" where /proc does not offer one. */
export async function hostIdentity(): Promise<Pick<AccelCacheKey, 'kernelRelease' | 'bootId'>> {
  const bootId = await readFile(BOOT_ID_PATH, 'utf8').then(
    (text) => text.trim() || 'unknown',
    () => 'unknown',
  );
  return { kernelRelease: release(), bootId };
}

const sameKey = (a: AccelCacheKey, b: AccelCacheKey): boolean =>
  a.arch === b.arch &&
  a.kernelRelease === b.kernelRelease &&
  a.bootId === b.bootId &&
  a.qemuPath === b.qemuPath &&
  a.qemuStamp === b.qemuStamp;

const isEntry = (value: unknown): value is AccelCacheEntry => {
  const entry = value as Partial<AccelCacheEntry> | null;
  return (
    typeof entry?.key?.qemuPath === 'string' &&
    typeof entry.key.bootId === 'string' &&
    (entry.verdict?.accel === 'kvm' || entry.verdict?.accel === 'tcg') &&
    typeof entry.verdict.reason === 'string'
  );
};

/** The entry for `key`, if any. */
export const findEntry = (
  entries: readonly AccelCacheEntry[],
  key: AccelCacheKey,
): AccelCacheEntry | undefined => entries.find((entry) => sameKey(entry.key, key));

/** `entries` with `entry` in place of any with its key, minus entries from other boots (they can never match again). */
export const withEntry = (entries: readonly AccelCacheEntry[], entry: AccelCacheEntry): AccelCacheEntry[] => [
  ...entries.filter(
    (e) =>
      !sameKey(e.key, entry.key) &&
      e.key.bootId === entry.key.bootId &&
      e.key.kernelRelease === entry.key.kernelRelease,
  ),
  entry,
];

/** The cached entries; a missing, unreadable or foreign file is an empty cache, never an error. */
export async function readAccelCache(dir: string): Promise<AccelCacheEntry[]> {
  try {
    const data = JSON.parse(await readFile(join(dir, ACCEL_CACHE_FILE), 'utf8')) as {
      version?: unknown;
      entries?: unknown;
    };
    if (data.version !== FORMAT_VERSION || !Array.isArray(data.entries)) return [];
    return data.entries.filter(isEntry);
  } catch {
    return [];
  }
}

/** Replaces the cache file atomically: dir 0700, file 0600 (it says which QEMU runs where). */
export async function writeAccelCache(dir: string, entries: readonly AccelCacheEntry[]): Promise<void> {
  await writePrivateJson(dir, ACCEL_CACHE_FILE, { version: FORMAT_VERSION, entries });
}
