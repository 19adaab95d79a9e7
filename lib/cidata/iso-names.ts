// ISO 9660 level 1 identifiers for the primary hierarchy: 8.3 d-characters, unique per directory, and their sort order.

import { NameClaims } from './name-claims.js';

/** An identifier split as ECMA-119 9.3 compares it: name part, then extension part. */
export interface IsoIdentifier {
  /** Bytes as recorded: 'NAME.EXT;1' for files, 'NAME' for directories. */
  id: string;
  name: string;
  ext: string;
}

const BASE_MAX = 8;
const EXT_MAX = 3;

// d-characters (ECMA-119 7.4.1) are A-Z, 0-9 and '_'; anything else becomes '_'.
const toDChars = (text: string): string => text.toUpperCase().replace(/[^A-Z0-9_]/g, '_');

/** Short names for one directory's children, in the children's order. */
export const primaryIdentifiers = (
  children: readonly { kind: 'file' | 'dir'; name: string }[],
): IsoIdentifier[] => {
  // Files and directories share one namespace, so 'A' (dir) and 'a' (file, 'A.;1') cannot both be 'A'.
  const claims = new NameClaims();
  return children.map(({ kind, name }) => {
    const dot = kind === 'file' ? name.lastIndexOf('.') : -1;
    const stem = toDChars(dot >= 0 ? name.slice(0, dot) : name) || '_';
    const ext = dot >= 0 ? toDChars(name.slice(dot + 1)).slice(0, EXT_MAX) : '';
    const claimed = claims.claim(
      (n) =>
        `${n === 0 ? stem.slice(0, BASE_MAX) : stem.slice(0, BASE_MAX - String(n).length) + String(n)}.${ext}`,
    );
    const base = claimed.slice(0, claimed.lastIndexOf('.'));
    return { id: kind === 'file' ? `${base}.${ext};1` : base, name: base, ext };
  });
};

/** ECMA-119 9.3: compare `a` and `b` as if the shorter were padded with spaces. */
export const comparePadded = (a: string, b: string): number => {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = i < a.length ? a.charCodeAt(i) : 0x20;
    const y = i < b.length ? b.charCodeAt(i) : 0x20;
    if (x !== y) return x - y;
  }
  return 0;
};

/** Order of directory records and path table entries: name part, then extension part. */
export const compareIdentifiers = (a: IsoIdentifier, b: IsoIdentifier): number =>
  comparePadded(a.name, b.name) || comparePadded(a.ext, b.ext);
