// FAT 32-byte short directory entries and their packed DOS date/time stamps.

import { putU16LE, putU32LE } from './both-endian.js';

export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;

export interface DosStamp {
  date: number;
  time: number;
  /** Hundredths of a second beyond `time`'s 2-second resolution (0-199). */
  tenths: number;
}

/** DOS dates run 1980-2107; dates outside are clamped, as mtools and mkfs.fat do. */
export const dosStamp = (input: Date): DosStamp => {
  const min = Date.UTC(1980, 0, 1);
  const max = Date.UTC(2107, 11, 31, 23, 59, 59, 990);
  const d = new Date(Math.min(max, Math.max(min, input.getTime())));
  const seconds = d.getUTCSeconds();
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (seconds >> 1),
    tenths: (seconds % 2) * 100 + Math.floor(d.getUTCMilliseconds() / 10),
  };
};

export interface ShortEntry {
  /** 11 bytes: 8 name, 3 extension, space padded. */
  name: string;
  attr: number;
  cluster: number;
  size: number;
  stamp: DosStamp;
}

export const shortEntry = (e: ShortEntry): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 11; i++) out[i] = e.name.charCodeAt(i);
  out[11] = e.attr;
  out[13] = e.stamp.tenths;
  putU16LE(out, 14, e.stamp.time); // created
  putU16LE(out, 16, e.stamp.date);
  putU16LE(out, 18, e.stamp.date); // last access
  putU16LE(out, 20, 0); // high cluster word: FAT32 only
  putU16LE(out, 22, e.stamp.time); // written
  putU16LE(out, 24, e.stamp.date);
  putU16LE(out, 26, e.cluster);
  putU32LE(out, 28, e.size);
  return out;
};
