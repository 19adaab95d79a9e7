// Whether a file's first bytes are a NoCloud seed volume: ISO 9660 with volume id cidata, or FAT labelled CIDATA.
// Pure: the caller reads the bytes. This is what `qlaunch seed` (and cloud-localds) writes, and nothing else is.

const ISO_SECTOR = 2048;
const ISO_FIRST_DESCRIPTOR = 16;
const SEED_LABEL = 'cidata';

const ascii = (bytes: Uint8Array, offset: number, length: number): string =>
  String.fromCharCode(...bytes.subarray(offset, offset + length));

/** ISO 9660: a primary volume descriptor (type 1, 'CD001') among the first sectors of the set, volume id cidata. */
function isoVolumeId(head: Uint8Array): string | undefined {
  for (let sector = ISO_FIRST_DESCRIPTOR; (sector + 1) * ISO_SECTOR <= head.length; sector++) {
    const at = sector * ISO_SECTOR;
    if (ascii(head, at + 1, 5) !== 'CD001') return undefined;
    const type = head[at]!;
    if (type === 1) return ascii(head, at + 40, 32).trimEnd();
    if (type === 255) return undefined;
  }
  return undefined;
}

/** FAT12/16 keep the label at 43 after signature 0x29 at 38; FAT32 at 71 after 0x29 at 66; both end in 55 AA. */
function fatLabel(head: Uint8Array): string | undefined {
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return undefined;
  if (head[38] === 0x29 && ascii(head, 54, 3) === 'FAT') return ascii(head, 43, 11).trimEnd();
  if (head[66] === 0x29 && ascii(head, 82, 5) === 'FAT32') return ascii(head, 71, 11).trimEnd();
  return undefined;
}

export type SeedVolume = 'iso9660' | 'vfat';

/** Which kind of seed volume `head` starts, or undefined; give it 40 KiB: ISO 9660's descriptors start at 32 KiB. */
export function recogniseSeedVolume(head: Uint8Array): SeedVolume | undefined {
  if (isoVolumeId(head)?.toLowerCase() === SEED_LABEL) return 'iso9660';
  if (fatLabel(head)?.toLowerCase() === SEED_LABEL) return 'vfat';
  return undefined;
}

/** An ISO 9660 or FAT volume whose label is not cidata, for naming what a file is. */
export function otherVolume(head: Uint8Array): SeedVolume | undefined {
  if (isoVolumeId(head) !== undefined) return 'iso9660';
  if (fatLabel(head) !== undefined) return 'vfat';
  return undefined;
}
