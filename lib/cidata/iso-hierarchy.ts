// One ISO 9660 directory hierarchy (primary or Joliet): named, sorted entries and directories in path-table order.

import { ErrorCode, QlaunchError } from '../errors.js';
import { compareIdentifiers, type IsoIdentifier } from './iso-names.js';
import type { SeedDirNode, SeedNode } from './seed-tree.js';

export interface HierarchyEntry {
  node: SeedNode;
  ident: IsoIdentifier;
  /** Set when the entry is a directory. */
  dir?: HierarchyDir;
}

export interface HierarchyDir {
  node: SeedDirNode;
  ident: IsoIdentifier;
  /** Path-table number of the parent; the root is its own parent (1). */
  parent: number;
  /** 1-based position in the path table. */
  number: number;
  /** Children in ECMA-119 9.3 order. */
  entries: HierarchyEntry[];
}

/** Names a directory's children (in their given order) for this hierarchy. */
export type Namer = (children: readonly SeedNode[]) => IsoIdentifier[];

/** The root's identifier is the single byte 0x00 (ECMA-119 6.8.2.2). */
const ROOT_IDENT: IsoIdentifier = { id: '\0', name: '\0', ext: '' };

/** Path-table numbers are 16-bit. */
const MAX_DIRS = 0xffff;

/**
 * Breadth-first from the root with each directory's children sorted: exactly the path-table
 * order of ECMA-119 9.4 (by level, then parent number, then identifier).
 */
export const buildHierarchy = (root: SeedDirNode, namer: Namer): HierarchyDir[] => {
  const dirs: HierarchyDir[] = [{ node: root, ident: ROOT_IDENT, parent: 1, number: 1, entries: [] }];
  for (let i = 0; i < dirs.length; i++) {
    const dir = dirs[i]!;
    const idents = namer(dir.node.children);
    const entries = dir.node.children.map((node, j): HierarchyEntry => ({ node, ident: idents[j]! }));
    entries.sort((a, b) => compareIdentifiers(a.ident, b.ident));
    for (const entry of entries) {
      if (entry.node.kind !== 'dir') continue;
      if (dirs.length === MAX_DIRS) {
        throw new QlaunchError(ErrorCode.SEED_TOO_LARGE, `Seed has more than ${MAX_DIRS} directories`, {
          hint: 'ISO 9660 path tables number directories with 16 bits; use fewer directories.',
        });
      }
      entry.dir = {
        node: entry.node,
        ident: entry.ident,
        parent: dir.number,
        number: dirs.length + 1,
        entries: [],
      };
      dirs.push(entry.dir);
    }
    dir.entries = entries;
  }
  return dirs;
};
