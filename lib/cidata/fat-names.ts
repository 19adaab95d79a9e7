// VFAT names: 8.3 short names with '~n' tails unique per directory, and long-file-name (LFN) entries.

import { NameClaims } from './name-claims.js';

export interface FatName {
  /** The 11-byte short name: 8 name bytes then 3 extension bytes, space padded. */
  short: string;
  /** True when the real name differs from what the short name shows, so LFN entries must carry it. */
  needsLfn: boolean;
}

// Characters a short name may hold besides A-Z and 0-9 (fatgen103 "8.3 names"); others become '_'.
const SHORT_CHARS = /^[A-Z0-9!#$%&'()@^_`{}~-]$/;

const toShortChars = (text: string): { text: string; lossy: boolean } => {
  let lossy = false;
  const out = Array.from(text, (c) => {
    const upper = c.toUpperCase();
    if (SHORT_CHARS.test(upper)) return upper;
    lossy = true;
    return '_';
  }).join('');
  return { text: out, lossy };
};

/** fatgen103 basis name: primary part up to the first period, extension after the last one. */
const basisName = (name: string): { base: string; ext: string; exact: boolean } => {
  const stripped = name.replace(/ /g, '').replace(/^\.+/, '');
  const first = stripped.indexOf('.');
  const last = stripped.lastIndexOf('.');
  const base = toShortChars(first >= 0 ? stripped.slice(0, first) : stripped);
  const ext = toShortChars(last >= 0 ? stripped.slice(last + 1) : '');
  const shortBase = base.text.slice(0, 8) || '_';
  const shortExt = ext.text.slice(0, 3);
  const shown = shortExt ? `${shortBase}.${shortExt}` : shortBase;
  // Exact: the short name says the same as the long name, ignoring case.
  const exact = !base.lossy && !ext.lossy && shown === name.toUpperCase();
  return { base: shortBase, ext: shortExt, exact };
};

const pack = (base: string, ext: string): string => base.padEnd(8, ' ') + ext.padEnd(3, ' ');

/** Short names for one directory's children, in the children's order. Exact 8.3 names claim theirs first. */
export const fatNames = (names: readonly string[]): FatName[] => {
  const claims = new NameClaims();
  const bases = names.map(basisName);
  for (const b of bases) if (b.exact) claims.reserve(pack(b.base, b.ext));
  return names.map((name, i): FatName => {
    const { base, ext, exact } = bases[i]!;
    if (exact) return { short: pack(base, ext), needsLfn: name !== name.toUpperCase() };
    const short = claims.claim((n) => pack(`${base.slice(0, 8 - String(n + 1).length - 1)}~${n + 1}`, ext));
    return { short, needsLfn: true };
  });
};

/** fatgen103: the checksum of a short name that binds LFN entries to it. */
export const shortNameChecksum = (short: string): number => {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + short.charCodeAt(i)) & 0xff;
  return sum;
};

/** UTF-16 code unit positions inside one 32-byte LFN entry: 5, 6, then 2 characters. */
const LFN_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30];

/** Number of LFN entries a name needs (13 UTF-16 units each). */
export const lfnEntryCount = (name: string): number => Math.ceil(name.length / 13);

/** LFN entries in on-disk order (highest ordinal first, flagged 0x40), to be followed by the short entry. */
export const lfnEntries = (name: string, short: string): Uint8Array[] => {
  const count = lfnEntryCount(name);
  const checksum = shortNameChecksum(short);
  const entries: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const entry = new Uint8Array(32);
    entry[0] = (i + 1) | (i === count - 1 ? 0x40 : 0);
    entry[11] = 0x0f; // read-only | hidden | system | volume label: the LFN marker
    entry[13] = checksum;
    LFN_OFFSETS.forEach((offset, j) => {
      const k = i * 13 + j;
      // The name ends with one 0x0000 unless it fills the entry; the rest is 0xFFFF.
      const unit = k < name.length ? name.charCodeAt(k) : k === name.length ? 0 : 0xffff;
      entry[offset] = unit & 0xff;
      entry[offset + 1] = unit >>> 8;
    });
    entries.push(entry);
  }
  return entries.reverse();
};
