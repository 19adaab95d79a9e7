// ECMA-119 timestamps: the 17-byte text form of volume descriptors and the 7-byte form of directory records.

import { putAscii } from './both-endian.js';

const pad = (value: number, width: number): string => String(value).padStart(width, '0');

// Years each form can hold; dates outside are clamped rather than wrapped into nonsense.
const clamp = (date: Date, minYear: number, maxYear: number): Date => {
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  const min = new Date(0).setUTCFullYear(minYear, 0, 1);
  const max = new Date(0).setUTCFullYear(maxYear + 1, 0, 1) - 10;
  return new Date(Math.min(max, Math.max(min, date.getTime())));
};

/** ECMA-119 8.4.26.1: 'YYYYMMDDHHMMSScc' digits plus a GMT offset byte (always UTC here). */
export const decDateTime = (date: Date): Uint8Array => {
  const d = clamp(date, 1, 9999);
  const out = new Uint8Array(17);
  const text =
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    pad(Math.floor(d.getUTCMilliseconds() / 10), 2);
  putAscii(out, 0, 16, text);
  return out;
};

/** ECMA-119 8.4.26.1: the "not specified" date, sixteen '0' digits and a zero offset. */
export const unsetDecDateTime = (): Uint8Array => {
  const out = new Uint8Array(17);
  putAscii(out, 0, 16, '', 0x30);
  return out;
};

/** ECMA-119 9.1.5: years since 1900, month, day, hour, minute, second, GMT offset (UTC here). */
export const recordDateTime = (date: Date): Uint8Array => {
  const d = clamp(date, 1900, 2155);
  return Uint8Array.of(
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  );
};
