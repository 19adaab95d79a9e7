// FAT12/FAT16 volume geometry: cluster size, FAT size and region offsets for a given volume size.

export const FAT_SECTOR = 512;
const RESERVED_SECTORS = 1;
const FAT_COUNT = 2;
/** Root directory entries of a hard-disk style FAT12/16 volume; grown when the root needs more. */
export const DEFAULT_ROOT_ENTRIES = 512;
/** fatgen103: fewer than 4085 clusters is FAT12, fewer than 65525 is FAT16. */
const FAT12_LIMIT = 4085;
const FAT16_LIMIT = 65525;
/** Largest volume FAT16 can describe with 64-sector (32 KiB) clusters. */
export const MAX_FAT_SECTORS = FAT16_LIMIT * 64;

export interface FatGeometry {
  totalSectors: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  fatSectors: number;
  rootEntries: number;
  /** Data clusters, numbered from 2. */
  clusterCount: number;
  fatBits: 12 | 16;
  rootDirSector: number;
  dataSector: number;
}

export const clusterBytes = (g: FatGeometry): number => g.sectorsPerCluster * FAT_SECTOR;

const fatBitsFor = (clusters: number): 12 | 16 => (clusters < FAT12_LIMIT ? 12 : 16);

const withClusterSize = (totalSectors: number, rootEntries: number, spc: number): FatGeometry | undefined => {
  const rootDirSectors = Math.ceil((rootEntries * 32) / FAT_SECTOR);
  let fatSectors = 1;
  for (;;) {
    const dataSectors = totalSectors - RESERVED_SECTORS - FAT_COUNT * fatSectors - rootDirSectors;
    const clusters = Math.floor(dataSectors / spc);
    if (clusters < 1) return undefined;
    const bits = fatBitsFor(clusters);
    const needed = Math.ceil(Math.ceil(((clusters + 2) * bits) / 8) / FAT_SECTOR);
    if (needed > fatSectors) {
      fatSectors = needed;
      continue;
    }
    const rootDirSector = RESERVED_SECTORS + FAT_COUNT * fatSectors;
    return {
      totalSectors,
      sectorsPerCluster: spc,
      reservedSectors: RESERVED_SECTORS,
      fatCount: FAT_COUNT,
      fatSectors,
      rootEntries,
      clusterCount: clusters,
      fatBits: bits,
      rootDirSector,
      dataSector: rootDirSector + rootDirSectors,
    };
  }
};

/**
 * Smallest cluster size that FAT16 can address, skipping counts within 16 of the FAT12/FAT16
 * boundary, where fatgen103 warns some drivers guess the type wrong. Undefined if nothing fits.
 */
export const fatGeometry = (totalSectors: number, rootEntries: number): FatGeometry | undefined => {
  for (let spc = 1; spc <= 64; spc *= 2) {
    const g = withClusterSize(totalSectors, rootEntries, spc);
    if (g === undefined) return undefined;
    if (g.clusterCount >= FAT16_LIMIT) continue;
    if (Math.abs(g.clusterCount - FAT12_LIMIT) <= 16) continue;
    return g;
  }
  return undefined;
};
