// The FAT12/16 boot sector: BIOS parameter block, extended boot signature, label and serial.

import { putAscii, putU16LE, putU32LE } from './both-endian.js';
import { FAT_SECTOR, type FatGeometry } from './fat-geometry.js';

/** fatgen103 recommends this OEM name as the one least likely to upset other drivers. */
const OEM_NAME = 'MSWIN4.1';
/** Fixed (non-removable) media. */
export const MEDIA_DESCRIPTOR = 0xf8;

export interface BootSectorFields {
  geometry: FatGeometry;
  /** Up to 11 characters, already upper-cased. */
  label: string;
  serial: number;
}

export const bootSector = ({ geometry: g, label, serial }: BootSectorFields): Uint8Array => {
  const out = new Uint8Array(FAT_SECTOR);
  out.set([0xeb, 0x3c, 0x90], 0); // jump over the BPB to offset 0x3E
  putAscii(out, 3, 8, OEM_NAME);
  putU16LE(out, 11, FAT_SECTOR);
  out[13] = g.sectorsPerCluster;
  putU16LE(out, 14, g.reservedSectors);
  out[16] = g.fatCount;
  putU16LE(out, 17, g.rootEntries);
  putU16LE(out, 19, g.totalSectors < 0x10000 ? g.totalSectors : 0);
  out[21] = MEDIA_DESCRIPTOR;
  putU16LE(out, 22, g.fatSectors);
  putU16LE(out, 24, 63); // sectors per track, only for CHS addressing
  putU16LE(out, 26, 255); // heads, likewise
  putU32LE(out, 28, 0); // hidden sectors: the image is not partitioned
  putU32LE(out, 32, g.totalSectors < 0x10000 ? 0 : g.totalSectors);
  out[36] = 0x80; // drive number
  out[38] = 0x29; // extended boot signature: serial, label and type follow
  putU32LE(out, 39, serial);
  putAscii(out, 43, 11, label);
  putAscii(out, 54, 8, g.fatBits === 12 ? 'FAT12' : 'FAT16');
  // Not bootable: INT 18h asks the BIOS to try the next device, then halt.
  out.set([0xcd, 0x18, 0xf4, 0xeb, 0xfd], 0x3e);
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
};
