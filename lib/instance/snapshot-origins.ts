// snapshots.json: the machine type and QEMU each internal snapshot of an instance was saved under, by tag.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../cidata/seed.js';
import type { SnapshotOrigin } from '../guest/snapshot/snapshot-origin.js';

const schema = z.object({
  version: z.literal(1),
  snapshots: z.record(z.string(), z.object({ machineType: z.string(), qemuVersion: z.string() })),
});

type Origins = Record<string, SnapshotOrigin>;

/** The records by tag; none when the file is missing or damaged (those snapshots then load unchecked, as before). */
export async function readSnapshotOrigins(path: string): Promise<Origins> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    return schema.parse(JSON.parse(text)).snapshots;
  } catch {
    return {};
  }
}

/** Record (or, with `undefined`, forget) the origin of snapshot `tag` (caller holds the instance lock). */
export async function recordSnapshotOrigin(
  path: string,
  tag: string,
  origin: SnapshotOrigin | undefined,
): Promise<void> {
  const { [tag]: _, ...others } = await readSnapshotOrigins(path);
  const snapshots = origin === undefined ? others : { ...others, [tag]: origin };
  await writeFileAtomic(
    path,
    new TextEncoder().encode(`${JSON.stringify({ version: 1, snapshots }, null, 2)}\n`),
    {
      what: 'snapshot records',
    },
  );
}
