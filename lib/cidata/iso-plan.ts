// Directory records planned before layout: identifiers, Rock Ridge entries and which of them overflow to a CE area.

import type { HierarchyDir } from './iso-hierarchy.js';
import { MAX_RECORD, recordBaseLength } from './iso-records.js';
import {
  CE_LENGTH,
  erEntry,
  nmEntries,
  pxEntry,
  S_IFDIR,
  S_IFREG,
  spEntry,
  splitSystemUse,
  tfEntry,
} from './rock-ridge.js';
import type { SeedFileNode, SeedNode } from './seed-tree.js';

export interface RecordPlan {
  id: Uint8Array;
  /** What the record points at: a directory of the same hierarchy, or a file (shared by both hierarchies). */
  target: HierarchyDir | SeedFileNode;
  inline: Uint8Array[];
  continued: Uint8Array[];
  /** Encoded length, CE entry and padding included. */
  length: number;
  /** Where `continued` goes, set during layout. */
  ce?: { sector: number; offset: number; bytes: Uint8Array };
}

/** Which record of a directory the system use entries are for. */
export type RecordRole = 'root' | 'self' | 'parent' | 'child';
export type SystemUse = (node: SeedNode, role: RecordRole) => Uint8Array[];

export const DOT = Uint8Array.of(0);
export const DOTDOT = Uint8Array.of(1);

const utf8 = new TextEncoder();

/** Rock Ridge for the primary hierarchy: SP and ER on the root's '.', PX and TF everywhere, NM on named entries. */
export const rockRidge = (date: Date): SystemUse => {
  const tf = tfEntry(date);
  return (node, role) => {
    // Directories link to themselves, their '.', and each subdirectory's '..'.
    const px =
      node.kind === 'dir'
        ? pxEntry(S_IFDIR | 0o755, 2 + node.children.filter((c) => c.kind === 'dir').length)
        : pxEntry(S_IFREG | 0o644, 1);
    if (role === 'root') return [spEntry(), px, tf, erEntry()];
    if (role === 'child') return [px, tf, ...nmEntries(utf8.encode(node.name))];
    return [px, tf];
  };
};

const planRecord = (id: Uint8Array, target: RecordPlan['target'], systemUse: Uint8Array[]): RecordPlan => {
  const base = recordBaseLength(id.length);
  const { inline, continued } = splitSystemUse(systemUse, MAX_RECORD - base);
  const su = inline.reduce((n, e) => n + e.length, 0) + (continued.length > 0 ? CE_LENGTH : 0);
  return { id, target, inline, continued, length: base + su + ((base + su) % 2) };
};

/** Records of every directory of one hierarchy, in directory order: '.', '..', then the sorted entries. */
export const planDirectories = (
  dirs: readonly HierarchyDir[],
  idBytes: (id: string) => Uint8Array,
  systemUse: SystemUse | undefined,
): RecordPlan[][] =>
  dirs.map((dir) => {
    const parent = dirs[dir.parent - 1]!;
    const su = (node: SeedNode, role: RecordRole): Uint8Array[] => systemUse?.(node, role) ?? [];
    return [
      planRecord(DOT, dir, su(dir.node, dir.number === 1 ? 'root' : 'self')),
      planRecord(DOTDOT, parent, su(parent.node, 'parent')),
      ...dir.entries.map((e) =>
        planRecord(idBytes(e.ident.id), e.dir ?? (e.node as SeedFileNode), su(e.node, 'child')),
      ),
    ];
  });
