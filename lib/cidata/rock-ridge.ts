// SUSP (IEEE P1281) and RRIP 1.10 (IEEE P1282, RRIP_1991A) system use entries, and their split over a continuation area.

import { putBoth32 } from './both-endian.js';
import { recordDateTime } from './iso-dates.js';

const ascii = new TextEncoder();

const entry = (signature: string, body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + body.length);
  out[0] = signature.charCodeAt(0);
  out[1] = signature.charCodeAt(1);
  out[2] = out.length;
  out[3] = 1; // entry version
  out.set(body, 4);
  return out;
};

const both32s = (...values: number[]): Uint8Array => {
  const out = new Uint8Array(values.length * 8);
  for (const [i, v] of values.entries()) putBoth32(out, i * 8, v);
  return out;
};

/** SUSP 5.3: marks the root's '.' record as using SUSP; no bytes are skipped. */
export const spEntry = (): Uint8Array => entry('SP', Uint8Array.of(0xbe, 0xef, 0));

/** SUSP 5.1: where the rest of a record's entries live. */
export const CE_LENGTH = 28;
export const ceEntry = (sector: number, offset: number, length: number): Uint8Array =>
  entry('CE', both32s(sector, offset, length));

const RRIP_ID = 'RRIP_1991A';
const RRIP_DESCRIPTOR =
  'THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS';
const RRIP_SOURCE =
  'PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.  SEE PUBLISHER IDENTIFIER IN PRIMARY VOLUME DESCRIPTOR FOR CONTACT INFORMATION.';

/** SUSP 5.5: names the extension in use (RRIP 1.10, whose registered identifier is RRIP_1991A). */
export const erEntry = (): Uint8Array => {
  const [id, des, src] = [RRIP_ID, RRIP_DESCRIPTOR, RRIP_SOURCE].map((s) => ascii.encode(s)) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  const body = new Uint8Array(4 + id.length + des.length + src.length);
  body.set([id.length, des.length, src.length, 1]);
  body.set(id, 4);
  body.set(des, 4 + id.length);
  body.set(src, 4 + id.length + des.length);
  return entry('ER', body);
};

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** RRIP 4.1.1 (1.10 form, 36 bytes): mode, links, uid, gid. */
export const pxEntry = (mode: number, links: number): Uint8Array => entry('PX', both32s(mode, links, 0, 0));

/** RRIP 4.1.6: modify, access and attribute-change times, short form. */
export const tfEntry = (date: Date): Uint8Array => {
  const stamp = recordDateTime(date);
  const body = new Uint8Array(1 + 3 * stamp.length);
  body[0] = 0x0e; // MODIFY | ACCESS | ATTRIBUTES
  for (let i = 0; i < 3; i++) body.set(stamp, 1 + i * stamp.length);
  return entry('TF', body);
};

/** An NM entry holds at most 250 name bytes (length byte max 255, 5-byte header). */
const NM_CHUNK = 250;

/** RRIP 4.1.4: the real name, split over several NM entries with the CONTINUE flag when long. */
export const nmEntries = (name: Uint8Array): Uint8Array[] => {
  const out: Uint8Array[] = [];
  for (let start = 0; start === 0 || start < name.length; start += NM_CHUNK) {
    const chunk = name.subarray(start, start + NM_CHUNK);
    const more = start + NM_CHUNK < name.length;
    const body = new Uint8Array(1 + chunk.length);
    body[0] = more ? 1 : 0;
    body.set(chunk, 1);
    out.push(entry('NM', body));
  }
  return out;
};

export interface SystemUseSplit {
  /** Entries recorded in the directory record itself. */
  inline: Uint8Array[];
  /** Entries moved to the continuation area (a CE entry must then end `inline`). */
  continued: Uint8Array[];
}

const total = (entries: readonly Uint8Array[]): number => entries.reduce((sum, e) => sum + e.length, 0);

/** Keeps entries in the record while they fit in `room` bytes, leaving space for a CE entry if any must move. */
export const splitSystemUse = (entries: readonly Uint8Array[], room: number): SystemUseSplit => {
  if (total(entries) <= room) return { inline: [...entries], continued: [] };
  let used = 0;
  let cut = 0;
  while (cut < entries.length && used + entries[cut]!.length + CE_LENGTH <= room)
    used += entries[cut++]!.length;
  return { inline: entries.slice(0, cut), continued: entries.slice(cut) };
};

/** Concatenates entries. */
export const joinEntries = (entries: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(total(entries));
  let at = 0;
  for (const e of entries) {
    out.set(e, at);
    at += e.length;
  }
  return out;
};
