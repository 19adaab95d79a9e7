// Builds an ISO 9660 image in memory: a primary hierarchy with Rock Ridge names, plus a Joliet hierarchy.

import { ErrorCode, QlaunchError } from '../errors.js';
import { recordDateTime } from './iso-dates.js';
import { terminatorDescriptor, volumeDescriptor } from './iso-descriptors.js';
import { buildHierarchy, type HierarchyDir } from './iso-hierarchy.js';
import { primaryIdentifiers } from './iso-names.js';
import { encodePathTable, type PathTableEntry, pathTableSize } from './iso-path-table.js';
import { DOT, planDirectories, type RecordPlan, rockRidge, type SystemUse } from './iso-plan.js';
import { encodeRecord, packedSectors, packRecords, SECTOR } from './iso-records.js';
import { jolietIdentifiers, ucs2BE } from './joliet.js';
import { ceEntry, joinEntries } from './rock-ridge.js';
import { resolveSeedDate } from './seed-date.js';
import { buildSeedTree, type SeedFile, type SeedFileNode, type SeedNode } from './seed-tree.js';

export interface Iso9660Options {
  /** Volume identifier, recorded as given (like genisoimage) so blkid reports it unchanged. Default 'cidata'. */
  label?: string;
  /** Timestamp for every date field; default SOURCE_DATE_EPOCH, else now. */
  date?: Date;
}

export const DEFAULT_ISO_LABEL = 'cidata';

const checkLabel = (label: string): string => {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(label)) {
    throw new QlaunchError(
      ErrorCode.SEED_INVALID,
      `ISO 9660 volume label ${JSON.stringify(label)} is invalid`,
      {
        hint: "Use 1-32 characters from A-Z, a-z, 0-9, '_', '.', '-' (cloud-init looks for 'cidata').",
      },
    );
  }
  return label;
};

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const sectorsFor = (bytes: number): number => Math.ceil(bytes / SECTOR);
const isFile = (target: HierarchyDir | SeedFileNode): target is SeedFileNode => 'data' in target;

interface Hierarchy {
  dirs: HierarchyDir[];
  plans: RecordPlan[][];
  idBytes: (id: string) => Uint8Array;
  tableSize: number;
  lTable: number;
  mTable: number;
}

const tableEntries = (h: Hierarchy, extent: (dir: HierarchyDir) => number): PathTableEntry[] =>
  h.dirs.map((d) => ({
    id: d.number === 1 ? DOT : h.idBytes(d.ident.id),
    extent: extent(d),
    parent: d.parent,
  }));

const filesOf = (node: SeedNode): SeedFileNode[] =>
  node.kind === 'file' ? [node] : node.children.flatMap(filesOf);

/** Builds the image; the same files, options and date give the same bytes. */
export const buildIso9660 = (files: readonly SeedFile[], options: Iso9660Options = {}): Uint8Array => {
  const label = checkLabel(options.label ?? DEFAULT_ISO_LABEL);
  const date = resolveSeedDate(options.date);
  const tree = buildSeedTree(files);
  const hierarchy = (
    namer: typeof primaryIdentifiers,
    idBytes: Hierarchy['idBytes'],
    systemUse?: SystemUse,
  ): Hierarchy => {
    const dirs = buildHierarchy(tree, namer);
    const plans = planDirectories(dirs, idBytes, systemUse);
    const h = { dirs, plans, idBytes, tableSize: 0, lTable: 0, mTable: 0 };
    h.tableSize = pathTableSize(tableEntries(h, () => 0));
    return h;
  };
  const primary = hierarchy(primaryIdentifiers, latin1, rockRidge(date));
  const joliet = hierarchy(jolietIdentifiers, ucs2BE);

  // Layout after the descriptors (16-18): path tables, primary dirs, CE areas, Joliet dirs, file data.
  let next = 19;
  const allocate = (sectors: number): number => {
    const at = next;
    next += sectors;
    return at;
  };
  for (const h of [primary, joliet]) {
    h.lTable = allocate(sectorsFor(h.tableSize));
    h.mTable = allocate(sectorsFor(h.tableSize));
  }
  const extents = new Map<HierarchyDir | SeedFileNode, number>();
  const dirSectors = new Map<HierarchyDir, number>();
  const placeDirs = (h: Hierarchy): void => {
    for (const [i, dir] of h.dirs.entries()) {
      dirSectors.set(dir, packedSectors(h.plans[i]!.map((p) => p.length)));
      extents.set(dir, allocate(dirSectors.get(dir)!));
    }
  };
  placeDirs(primary);
  // CE areas share sectors, but none may cross a sector boundary (Linux refuses those).
  let ceSector = 0;
  let ceUsed = SECTOR;
  for (const plan of primary.plans.flat()) {
    if (plan.continued.length === 0) continue;
    const bytes = joinEntries(plan.continued);
    if (ceUsed + bytes.length > SECTOR) {
      ceSector = allocate(1);
      ceUsed = 0;
    }
    plan.ce = { sector: ceSector, offset: ceUsed, bytes };
    ceUsed += bytes.length;
  }
  placeDirs(joliet);
  // An empty file points at the next free sector, as genisoimage does, and takes none.
  for (const file of filesOf(tree)) extents.set(file, allocate(sectorsFor(file.data.length)));
  const volumeSectors = next;

  const image = new Uint8Array(volumeSectors * SECTOR);
  const stamp = recordDateTime(date);
  const record = (plan: Pick<RecordPlan, 'id' | 'target' | 'inline' | 'ce'>): Uint8Array => {
    const su = plan.ce
      ? [...plan.inline, ceEntry(plan.ce.sector, plan.ce.offset, plan.ce.bytes.length)]
      : plan.inline;
    const target = plan.target;
    return encodeRecord({
      id: plan.id,
      extent: extents.get(target)!,
      size: isFile(target) ? target.data.length : dirSectors.get(target)! * SECTOR,
      isDir: !isFile(target),
      date: stamp,
      systemUse: joinEntries(su),
    });
  };
  for (const [index, h] of [primary, joliet].entries()) {
    for (const [i, dir] of h.dirs.entries())
      image.set(packRecords(h.plans[i]!.map(record)), extents.get(dir)! * SECTOR);
    const entries = tableEntries(h, (dir) => extents.get(dir)!);
    image.set(encodePathTable(entries, 'L'), h.lTable * SECTOR);
    image.set(encodePathTable(entries, 'M'), h.mTable * SECTOR);
    const descriptor = volumeDescriptor({
      kind: index === 0 ? 'primary' : 'joliet',
      volumeId: label,
      volumeSectors,
      pathTableSize: h.tableSize,
      lPathTableSector: h.lTable,
      mPathTableSector: h.mTable,
      rootRecord: record({ id: DOT, target: h.dirs[0]!, inline: [] }),
      date,
    });
    image.set(descriptor, (16 + index) * SECTOR);
  }
  image.set(terminatorDescriptor(), 18 * SECTOR);
  for (const plan of primary.plans.flat())
    if (plan.ce) image.set(plan.ce.bytes, plan.ce.sector * SECTOR + plan.ce.offset);
  for (const file of filesOf(tree)) image.set(file.data, extents.get(file)! * SECTOR);
  return image;
};
