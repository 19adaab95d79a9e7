// Sizes a FAT volume for its content: directory entry counts, clusters needed, and a geometry they fit in.

import { ErrorCode, QlaunchError } from '../errors.js';
import {
  clusterBytes,
  DEFAULT_ROOT_ENTRIES,
  FAT_SECTOR,
  type FatGeometry,
  fatGeometry,
  MAX_FAT_SECTORS,
} from './fat-geometry.js';
import { type FatName, fatNames, lfnEntryCount } from './fat-names.js';
import type { SeedDirNode } from './seed-tree.js';

export interface DirPlan {
  node: SeedDirNode;
  /** Short names of the children, in the children's order. */
  names: FatName[];
  /** 32-byte entries the directory holds, including '.'/'..' or the volume label. */
  entryCount: number;
}

/** Auto-sized images start at 1 MiB, like common seed images, and grow in 1 MiB steps. */
const AUTO_STEP_SECTORS = 2048;
const MIN_SIZE = 64 * 1024;
/** The BPB's root entry count is 16-bit; keep it a whole number of sectors. */
const MAX_ROOT_ENTRIES = 0xfff0;

export const planDir = (node: SeedDirNode, isRoot: boolean): DirPlan => {
  const names = fatNames(node.children.map((c) => c.name));
  let entryCount = isRoot ? 1 : 2;
  for (const [i, name] of names.entries()) {
    entryCount += 1 + (name.needsLfn ? lfnEntryCount(node.children[i]!.name) : 0);
  }
  return { node, names, entryCount };
};

export const clustersFor = (bytes: number, g: FatGeometry): number => Math.ceil(bytes / clusterBytes(g));

/** Clusters for every subdirectory and file; plans[0] is the root, which lives outside the data area. */
export const clustersNeeded = (plans: readonly DirPlan[], g: FatGeometry): number => {
  let sum = 0;
  for (const [i, plan] of plans.entries()) {
    if (i > 0) sum += clustersFor(plan.entryCount * 32, g);
    for (const c of plan.node.children) if (c.kind === 'file') sum += clustersFor(c.data.length, g);
  }
  return sum;
};

const fitting = (g: FatGeometry | undefined, plans: readonly DirPlan[]): FatGeometry | undefined =>
  g !== undefined && clustersNeeded(plans, g) <= g.clusterCount ? g : undefined;

/** Grows from 1 MiB in whole MiB, by the shortfall each time, until the content fits. */
const autoGeometry = (plans: readonly DirPlan[], rootEntries: number): FatGeometry => {
  let sectors = AUTO_STEP_SECTORS;
  for (;;) {
    const g = fatGeometry(sectors, rootEntries);
    const fit = fitting(g, plans);
    if (fit) return fit;
    const deficit = g ? clustersNeeded(plans, g) - g.clusterCount : 1;
    // Each missing cluster also costs up to two bytes in each of the two FATs.
    const grow = g
      ? deficit * g.sectorsPerCluster + Math.ceil((deficit * 4) / FAT_SECTOR)
      : AUTO_STEP_SECTORS;
    sectors = Math.ceil((sectors + grow) / AUTO_STEP_SECTORS) * AUTO_STEP_SECTORS;
    if (sectors > MAX_FAT_SECTORS) {
      throw new QlaunchError(
        ErrorCode.SEED_TOO_LARGE,
        'Seed content does not fit in a FAT16 volume (2 GiB)',
        {
          hint: 'Use the iso9660 filesystem, or put less into the seed.',
        },
      );
    }
  }
};

const sizeError = (size: number, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.SEED_INVALID, `FAT image size ${size} is invalid`, { hint });

/** The geometry for `size` bytes, or the smallest that fits (at least 1 MiB) when size is undefined. */
export const chooseGeometry = (plans: readonly DirPlan[], size: number | undefined): FatGeometry => {
  const rootEntries = Math.max(DEFAULT_ROOT_ENTRIES, Math.ceil(plans[0]!.entryCount / 16) * 16);
  if (rootEntries > MAX_ROOT_ENTRIES) {
    throw new QlaunchError(ErrorCode.SEED_TOO_LARGE, 'Too many seed files in the FAT root directory', {
      hint: `FAT12/16 roots hold at most ${MAX_ROOT_ENTRIES} entries (long names take several); use subdirectories.`,
    });
  }
  if (size === undefined) return autoGeometry(plans, rootEntries);
  if (!Number.isSafeInteger(size) || size % FAT_SECTOR !== 0) {
    throw sizeError(size, 'Give a whole number of bytes that is a multiple of 512.');
  }
  if (size < MIN_SIZE || size > MAX_FAT_SECTORS * FAT_SECTOR) {
    throw sizeError(size, `Give between ${MIN_SIZE} bytes and 2 GiB, or leave size out.`);
  }
  const fit = fitting(fatGeometry(size / FAT_SECTOR, rootEntries), plans);
  if (fit) return fit;
  const needed = autoGeometry(plans, rootEntries).totalSectors * FAT_SECTOR;
  throw new QlaunchError(ErrorCode.SEED_TOO_LARGE, `Seed content does not fit in a ${size}-byte FAT image`, {
    hint: `Give a size of at least ${needed} bytes, or leave size out to size the image from its content.`,
  });
};
