// ECMA-119 9.4 path tables: one entry per directory in path-table order, little-endian (L) or big-endian (M).

import { putU16BE, putU16LE, putU32BE, putU32LE } from './both-endian.js';

export interface PathTableEntry {
  /** Directory identifier bytes; the root's is a single 0x00. */
  id: Uint8Array;
  extent: number;
  /** 1-based number of the parent directory in this table; the root is its own parent (1). */
  parent: number;
}

const entryLength = (entry: PathTableEntry): number => 8 + entry.id.length + (entry.id.length % 2);

/** Byte size of the table, as recorded in the volume descriptor. */
export const pathTableSize = (entries: readonly PathTableEntry[]): number =>
  entries.reduce((sum, e) => sum + entryLength(e), 0);

export const encodePathTable = (entries: readonly PathTableEntry[], endian: 'L' | 'M'): Uint8Array => {
  const out = new Uint8Array(pathTableSize(entries));
  const put32 = endian === 'L' ? putU32LE : putU32BE;
  const put16 = endian === 'L' ? putU16LE : putU16BE;
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.id.length;
    out[at + 1] = 0; // extended attribute record length
    put32(out, at + 2, entry.extent);
    put16(out, at + 6, entry.parent);
    out.set(entry.id, at + 8);
    at += entryLength(entry);
  }
  return out;
};
