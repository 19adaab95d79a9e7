// Private working directories for throwaway cloud runs (overlay, seed, keys), and the sweep of ones a killed run left.

import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../process-alive.js';

const PREFIX = 'qlaunch-run-';
const OWNER_FILE = 'owner.pid';

/** Where throwaway runs keep their files: $XDG_RUNTIME_DIR (tmpfs, per user) when set, else the temp dir. */
export function runBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['XDG_RUNTIME_DIR'] ? join(env['XDG_RUNTIME_DIR'], 'qlaunch') : tmpdir();
}

/** Remove run dirs whose owner process is gone (a run killed with SIGKILL cannot clean up after itself). */
export async function sweepStaleRunDirs(base: string): Promise<string[]> {
  const entries = await readdir(base).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries.filter((e) => e.startsWith(PREFIX))) {
    const dir = join(base, name);
    const owner = Number(await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => 'NaN'));
    if (Number.isInteger(owner) && owner > 0 && processAlive(owner)) continue;
    // No owner yet may mean another run is between mkdtemp and writing it: leave young dirs alone.
    if (
      !Number.isInteger(owner) &&
      Date.now() - ((await stat(dir).catch(() => undefined))?.mtimeMs ?? 0) < 60_000
    )
      continue;
    await rm(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

/** A fresh 0700 directory owned by this process; sweeps leftovers of dead runs first. */
export async function createRunDir(base: string = runBaseDir()): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o700 });
  await sweepStaleRunDirs(base);
  const dir = await mkdtemp(join(base, PREFIX));
  await writeFile(join(dir, OWNER_FILE), String(process.pid), { mode: 0o600 });
  return dir;
}
