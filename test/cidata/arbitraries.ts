// fast-check generators for seed file trees: awkward names, names that collide once shortened, any file size.

import fc from 'fast-check';
import type { SeedFile } from '../../lib/cidata/seed-tree.js';
import { noise } from './readers.js';

const ASCII = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', ...'._-~+,;=[]() '];
const UNICODE = ['é', 'ß', 'Ω', '日', '本', 'ü'];

const utf8Length = (s: string): number => Buffer.byteLength(s);

export interface TreeRules {
  /** VFAT: no trailing dot or space, and names are compared without case. */
  fat: boolean;
}

const nameArb = (rules: TreeRules): fc.Arbitrary<string> =>
  fc
    .oneof(
      {
        weight: 2,
        arbitrary: fc.constantFrom('user-data', 'meta-data', 'README', 'readme.MD', 'a.b.c', '.hidden', 'x'),
      },
      // Shared 8-character prefixes: these only stay apart through '~n' tails and numbering.
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.constantFrom('cloud-config-part', 'Cloud_Config', 'cloudcon', 'CLOUDCON.'),
            fc.stringMatching(/^[a-z0-9.-]{0,5}$/),
          )
          .map(([a, b]) => a + b),
      },
      {
        weight: 4,
        arbitrary: fc.string({ unit: fc.constantFrom(...ASCII, ...UNICODE), minLength: 1, maxLength: 24 }),
      },
      {
        weight: 1,
        arbitrary: fc.string({ unit: fc.constantFrom(...ASCII), minLength: 100, maxLength: 255 }),
      },
    )
    .filter((n) => n !== '.' && n !== '..' && utf8Length(n) <= 255 && (!rules.fat || !/[. ]$/.test(n)));

/** Sizes around sector and cluster edges, now and then a large one. */
const sizeArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 511, 512, 513, 2047, 2048, 2049, 4096) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 70_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1 << 20, max: 3 << 20 }) },
);

const MAX_TOTAL = 4 << 20;

/**
 * A list of files whose paths are consistent: no path is both a file and a directory and, for VFAT,
 * no two spellings of one name differ only in case. Total size stays under 4 MiB.
 */
export const seedTreeArb = (rules: TreeRules): fc.Arbitrary<SeedFile[]> => {
  const name = nameArb(rules);
  const dir = fc.oneof(
    fc.constantFrom('etc', 'scripts', 'Scripts.d', `${'deep-directory-'.repeat(8)}x`),
    name,
  );
  const entry = fc.record({ dirs: fc.array(dir, { maxLength: 3 }), name, size: sizeArb, seed: fc.integer() });
  return fc.array(entry, { minLength: 1, maxLength: 20 }).map((entries) => {
    const key = (s: string) => (rules.fat ? s.toUpperCase() : s);
    const files = new Set<string>();
    const dirs = new Set<string>();
    const spelling = new Map<string, string>();
    const out: SeedFile[] = [];
    let total = 0;
    for (const e of entries) {
      const parts = [...e.dirs, e.name];
      const keys = parts.map((_, i) =>
        parts
          .slice(0, i + 1)
          .map(key)
          .join('/'),
      );
      const clash = parts.some((p, i) => spelling.has(keys[i]!) && spelling.get(keys[i]!) !== p);
      const prefixIsFile = keys.slice(0, -1).some((k) => files.has(k));
      const full = keys.at(-1)!;
      if (clash || prefixIsFile || files.has(full) || dirs.has(full)) continue;
      const size = total + e.size > MAX_TOTAL ? e.size % 5000 : e.size;
      total += size;
      for (const [i, p] of parts.entries()) spelling.set(keys[i]!, p);
      for (const k of keys.slice(0, -1)) dirs.add(k);
      files.add(full);
      out.push({ path: parts.join('/'), data: noise(size, e.seed) });
    }
    return out;
  });
};
