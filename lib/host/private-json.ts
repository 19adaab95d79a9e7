// A small JSON file private to the user (dir 0700, file 0600), replaced atomically.

import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function writePrivateJson(dir: string, name: string, value: unknown): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, name);
  const temp = `${file}.${process.pid}.tmp`;
  // A leftover from a crashed writer would keep its old mode: start from nothing.
  await rm(temp, { force: true });
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, file);
}
