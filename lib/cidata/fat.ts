// Builds a FAT12/FAT16 image in memory with VFAT long names, sized from its content or to a given size.

import { createHash } from 'node:crypto';
import { ErrorCode, QlaunchError } from '../errors.js';
import { putU32LE } from './both-endian.js';
import { bootSector } from './fat-boot.js';
import {
  ATTR_ARCHIVE,
  ATTR_DIRECTORY,
  ATTR_VOLUME_ID,
  type DosStamp,
  dosStamp,
  shortEntry,
} from './fat-entries.js';
import { FAT_SECTOR } from './fat-geometry.js';
import { lfnEntries } from './fat-names.js';
import { chooseGeometry, clustersFor, planDir } from './fat-plan.js';
import { FatTable } from './fat-table.js';
import { resolveSeedDate } from './seed-date.js';
import { allDirs, buildSeedTree, type SeedFile, type SeedNode } from './seed-tree.js';
import { denseImage, type SparseImage } from './sparse-image.js';

export interface FatOptions {
  /** Volume label, upper-cased as DOS expects. Default 'CIDATA'. */
  label?: string;
  /** Timestamp for every entry; default SOURCE_DATE_EPOCH, else now. */
  date?: Date;
  /** Image size in bytes (a multiple of 512); default: what the content needs, at least 1 MiB. */
  size?: number;
  /** Volume serial number; default derived from the image bytes, so it is deterministic. */
  serial?: number;
}

export const DEFAULT_FAT_LABEL = 'CIDATA';

const checkLabel = (label: string): string => {
  const upper = label.toUpperCase();
  if (!/^[A-Z0-9_!#$%&'()@^`{}~-][A-Z0-9_!#$%&'()@^`{}~ -]{0,10}$/.test(upper)) {
    throw new QlaunchError(ErrorCode.SEED_INVALID, `FAT volume label ${JSON.stringify(label)} is invalid`, {
      hint: "Use 1-11 characters from A-Z, 0-9 and _-!#$%&'()@^`{}~ (cloud-init looks for 'CIDATA').",
    });
  }
  return upper;
};

const checkSerial = (serial: number | undefined): void => {
  if (serial !== undefined && !(Number.isInteger(serial) && serial >= 0 && serial <= 0xffff_ffff)) {
    throw new QlaunchError(ErrorCode.SEED_INVALID, `FAT volume serial ${serial} is invalid`, {
      hint: 'Give an integer from 0 to 0xFFFFFFFF, or leave serial out to derive it from the content.',
    });
  }
};

/** VFAT refuses these in long names; Linux and Windows drop trailing dots and spaces. */
export const fatNameRule = (name: string): string | undefined => {
  if (/["*:<>?\\|]/.test(name)) return 'VFAT names cannot contain any of " * : < > ? \\ |';
  if (/[. ]$/.test(name)) return 'VFAT names cannot end with a dot or a space';
  if (name.length > 255) return 'VFAT names are limited to 255 UTF-16 characters';
  return undefined;
};

const blank = (name: string): string => name.padEnd(11, ' ');

const labelEntry = (label: string, stamp: DosStamp): Uint8Array =>
  shortEntry({ name: blank(label), attr: ATTR_VOLUME_ID, cluster: 0, size: 0, stamp });

/** '.' points at the directory itself, '..' at its parent (0 when the parent is the root). */
const dotEntries = (self: number, parent: number, stamp: DosStamp): Uint8Array[] => [
  shortEntry({ name: blank('.'), attr: ATTR_DIRECTORY, cluster: self, size: 0, stamp }),
  shortEntry({ name: blank('..'), attr: ATTR_DIRECTORY, cluster: parent, size: 0, stamp }),
];

/**
 * Builds the image as the bytes up to the end of the last cluster in use (boot sector, FATs, root directory,
 * content); the free clusters after it are zeros. Identical files, options and date give identical bytes.
 */
export const buildSparseFat = (files: readonly SeedFile[], options: FatOptions = {}): SparseImage => {
  const label = checkLabel(options.label ?? DEFAULT_FAT_LABEL);
  checkSerial(options.serial);
  const stamp = dosStamp(resolveSeedDate(options.date));
  const tree = buildSeedTree(files, { nameRule: fatNameRule, nameKey: (name) => name.toUpperCase() });
  const plans = allDirs(tree).map((node, i) => planDir(node, i === 0));
  const g = chooseGeometry(plans, options.size);
  const table = new FatTable(g.fatBits, g.clusterCount);

  // Clusters are handed out in tree order, each file and directory contiguous; the root owns none.
  const first = new Map<SeedNode, number>([[tree, 0]]);
  let next = 2;
  const allocate = (node: SeedNode, bytes: number): void => {
    const count = clustersFor(bytes, g);
    first.set(node, count === 0 ? 0 : next);
    table.chain(next, count);
    next += count;
  };
  for (const [i, plan] of plans.entries()) {
    if (i > 0) allocate(plan.node, plan.entryCount * 32);
    for (const child of plan.node.children) if (child.kind === 'file') allocate(child, child.data.length);
  }
  const clusterOffset = (cluster: number): number =>
    (g.dataSector + (cluster - 2) * g.sectorsPerCluster) * FAT_SECTOR;
  // Only the used part is allocated: touching a mostly empty MiB cost more than building the volume.
  const used = clusterOffset(next);
  const image = new Uint8Array(used);

  const parentCluster = new Map<SeedNode, number>();
  for (const [i, plan] of plans.entries()) {
    const self = first.get(plan.node)!;
    const entries =
      i === 0 ? [labelEntry(label, stamp)] : dotEntries(self, parentCluster.get(plan.node)!, stamp);
    for (const [j, child] of plan.node.children.entries()) {
      const name = plan.names[j]!;
      const cluster = first.get(child)!;
      parentCluster.set(child, self);
      if (name.needsLfn) entries.push(...lfnEntries(child.name, name.short));
      const file = child.kind === 'file';
      entries.push(
        shortEntry({
          name: name.short,
          attr: file ? ATTR_ARCHIVE : ATTR_DIRECTORY,
          cluster,
          size: file ? child.data.length : 0,
          stamp,
        }),
      );
      if (file) image.set(child.data, clusterOffset(cluster));
    }
    const at = i === 0 ? g.rootDirSector * FAT_SECTOR : clusterOffset(self);
    for (const [k, entry] of entries.entries()) image.set(entry, at + k * 32);
  }

  const fatAt = g.reservedSectors * FAT_SECTOR;
  const fatBytes = g.fatSectors * FAT_SECTOR;
  table.encodeInto(image.subarray(fatAt, fatAt + fatBytes));
  for (let copy = 1; copy < g.fatCount; copy++)
    image.copyWithin(fatAt + copy * fatBytes, fatAt, fatAt + fatBytes);
  image.set(bootSector({ geometry: g, label, serial: 0 }), 0);
  // The serial only has to tell volumes apart: a hash of the bytes in use (the rest is zeros) keeps it reproducible
  // without hashing a mostly empty image.
  putU32LE(image, 39, options.serial ?? createHash('sha256').update(image).digest().readUInt32LE(0));
  return { head: image, size: g.totalSectors * FAT_SECTOR };
};

/** The whole image in one array (see buildSparseFat). */
export const buildFat = (files: readonly SeedFile[], options: FatOptions = {}): Uint8Array =>
  denseImage(buildSparseFat(files, options));
