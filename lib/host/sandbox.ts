// Whether a QEMU build can confine itself with seccomp (`-sandbox`): asked once per binary, then cached.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { binaryStamp, defaultCacheDir } from './accel-cache.js';
import { writePrivateJson } from './private-json.js';

export const SANDBOX_CACHE_FILE = 'sandbox.json';
// Every sub-option qlaunch uses: a build that knows `-sandbox` but not one of them counts as without.
const PROBE_FILTER = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny';
const PROBE_TIMEOUT_MS = 10_000;

export interface SandboxVerdict {
  /** The build has seccomp: `-sandbox` with qlaunch's filter starts and quits cleanly. */
  seccomp: boolean;
  /** One line on why, e.g. what QEMU said when it refused. */
  reason: string;
  cached: boolean;
}

interface CacheEntry {
  qemuPath: string;
  qemuStamp: string;
  seccomp: boolean;
  reason: string;
}

/** Runs QEMU with the filter and no machine, quitting over QMP on stdin: exit status 0 means the filter works. */
async function runProbe(binary: string): Promise<Omit<SandboxVerdict, 'cached'>> {
  // Loaded on first use: execa costs start-up time every `qlaunch run` would pay.
  const { execa } = await import('execa');
  const quit = '{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n';
  const args = ['-sandbox', PROBE_FILTER, '-machine', 'none', '-nodefaults', '-display', 'none'];
  const result = await execa(binary, [...args, '-qmp', 'stdio'], {
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
    input: quit,
  });
  if (result.exitCode === 0) return { seccomp: true, reason: 'QEMU starts with -sandbox on' };
  const said = String(result.stderr).trim().split('\n')[0]?.slice(0, 200);
  return { seccomp: false, reason: said || `QEMU failed with -sandbox on (${result.shortMessage})` };
}

const readEntries = async (file: string): Promise<CacheEntry[]> => {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as { entries?: unknown };
    return Array.isArray(data.entries) ? (data.entries as CacheEntry[]) : [];
  } catch {
    return [];
  }
};

/** Whether `binary` has seccomp; the answer is kept per binary build (path, size, mtime, inode). */
export async function probeSandbox(
  binary: string,
  options: { cacheDir?: string | undefined; refresh?: boolean | undefined } = {},
): Promise<SandboxVerdict> {
  const dir = options.cacheDir ?? defaultCacheDir();
  const file = join(dir, SANDBOX_CACHE_FILE);
  const qemuStamp = await binaryStamp(binary);
  const entries = await readEntries(file);
  const hit = entries.find((e) => e.qemuPath === binary && e.qemuStamp === qemuStamp);
  if (hit && typeof hit.seccomp === 'boolean' && !options.refresh) {
    return { seccomp: hit.seccomp, reason: String(hit.reason), cached: true };
  }
  const fresh = await runProbe(binary);
  const others = entries.filter((e) => e.qemuPath !== binary);
  // The verdict stands even if it cannot be remembered (read-only home): the next run just asks again.
  await writePrivateJson(dir, SANDBOX_CACHE_FILE, {
    entries: [...others, { qemuPath: binary, qemuStamp, ...fresh }],
  }).catch(() => {});
  return { ...fresh, cached: false };
}
