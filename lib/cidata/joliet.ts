// Joliet names: UCS-2 big-endian identifiers of up to 64 characters, unique per directory.

import type { IsoIdentifier } from './iso-names.js';
import { NameClaims } from './name-claims.js';

/** Escape sequence of a Joliet supplementary volume descriptor: UCS-2 level 3. */
export const JOLIET_ESCAPE = Uint8Array.of(0x25, 0x2f, 0x45);

/** Joliet's limit on a file or directory identifier, in UCS-2 characters. */
export const JOLIET_MAX_CHARS = 64;

// Joliet forbids * / : ; ? \ and controls; UCS-2 has no room for astral code points.
const toJolietChars = (name: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: Joliet forbids control characters
  Array.from(name, (c) => (c.length > 1 || /[\u0000-\u001f*/:;?\\]/.test(c) ? '_' : c)).join('');

/** Joliet names for one directory's children, in the children's order; long names keep their extension. */
export const jolietIdentifiers = (
  children: readonly { kind: 'file' | 'dir'; name: string }[],
): IsoIdentifier[] => {
  const claims = new NameClaims();
  return children.map(({ kind, name }) => {
    const full = toJolietChars(name);
    const dot = full.lastIndexOf('.');
    // Keep a short extension intact when a name must be cut or numbered.
    const split = kind === 'file' && dot > 0 && full.length - dot <= 16;
    const stem = split ? full.slice(0, dot) : full;
    const ext = split ? full.slice(dot) : '';
    const id = claims.claim((n) => {
      const suffix = n === 0 ? '' : `~${n}`;
      if (n === 0 && full.length <= JOLIET_MAX_CHARS) return full;
      return stem.slice(0, JOLIET_MAX_CHARS - ext.length - suffix.length) + suffix + ext;
    });
    const idDot = split ? id.lastIndexOf('.') : -1;
    return idDot > 0 ? { id, name: id.slice(0, idDot), ext: id.slice(idDot + 1) } : { id, name: id, ext: '' };
  });
};

/** UCS-2 big-endian bytes of a Joliet identifier (all characters are in the BMP by construction). */
export const ucs2BE = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    out[2 * i] = text.charCodeAt(i) >>> 8;
    out[2 * i + 1] = text.charCodeAt(i) & 0xff;
  }
  return out;
};
