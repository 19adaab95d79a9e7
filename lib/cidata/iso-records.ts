// ECMA-119 9.1 directory records, and their packing into 2048-byte sectors without crossing a sector boundary.

import { putBoth16, putBoth32 } from './both-endian.js';

export const SECTOR = 2048;

/** Longest directory record we write: the length byte allows 255, records keep an even length. */
export const MAX_RECORD = 254;

/** Bytes before the system use area: 33 fixed, the identifier, one pad byte if the identifier length is even. */
export const recordBaseLength = (idLength: number): number => 33 + idLength + (idLength % 2 === 0 ? 1 : 0);

export interface DirectoryRecord {
  /** Identifier bytes: 0x00 for '.', 0x01 for '..'. */
  id: Uint8Array;
  extent: number;
  size: number;
  isDir: boolean;
  /** 7-byte recording date. */
  date: Uint8Array;
  systemUse?: Uint8Array;
}

/** Encodes one record, padding its system use area so the record length stays even. */
export const encodeRecord = (record: DirectoryRecord): Uint8Array => {
  const base = recordBaseLength(record.id.length);
  const su = record.systemUse ?? new Uint8Array(0);
  const length = base + su.length + ((base + su.length) % 2);
  const out = new Uint8Array(length);
  out[0] = length;
  out[1] = 0; // extended attribute record length
  putBoth32(out, 2, record.extent);
  putBoth32(out, 10, record.size);
  out.set(record.date, 18);
  out[25] = record.isDir ? 0x02 : 0x00;
  putBoth16(out, 28, 1); // volume sequence number
  out[32] = record.id.length;
  out.set(record.id, 33);
  out.set(su, base);
  return out;
};

/** Number of sectors records of these lengths take when none may cross a sector boundary. */
export const packedSectors = (lengths: readonly number[]): number => {
  let sectors = 1;
  let used = 0;
  for (const length of lengths) {
    if (used + length > SECTOR) {
      sectors++;
      used = 0;
    }
    used += length;
  }
  return sectors;
};

/** Lays records out sector by sector, zero-filling the tail of each sector a record would overflow. */
export const packRecords = (records: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(packedSectors(records.map((r) => r.length)) * SECTOR);
  let at = 0;
  for (const record of records) {
    if ((at % SECTOR) + record.length > SECTOR) at += SECTOR - (at % SECTOR);
    out.set(record, at);
    at += record.length;
  }
  return out;
};
