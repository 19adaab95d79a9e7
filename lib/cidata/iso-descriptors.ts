// ECMA-119 8.4/8.5 volume descriptors: the primary one, the Joliet supplementary one, and the set terminator.

import { putAscii, putBoth16, putBoth32, putU32BE, putU32LE, putUcs2BE } from './both-endian.js';
import { decDateTime, unsetDecDateTime } from './iso-dates.js';
import { SECTOR } from './iso-records.js';
import { JOLIET_ESCAPE } from './joliet.js';

export interface VolumeDescriptorFields {
  /** 'primary' writes a-/d-character fields; 'joliet' writes UCS-2 fields and the Joliet escape sequence. */
  kind: 'primary' | 'joliet';
  volumeId: string;
  volumeSectors: number;
  pathTableSize: number;
  lPathTableSector: number;
  mPathTableSector: number;
  /** The 34-byte directory record of this hierarchy's root. */
  rootRecord: Uint8Array;
  date: Date;
}

const APPLICATION_ID = 'QLAUNCH';

export const volumeDescriptor = (f: VolumeDescriptorFields): Uint8Array => {
  const out = new Uint8Array(SECTOR);
  const text = f.kind === 'primary' ? putAscii : putUcs2BE;
  out[0] = f.kind === 'primary' ? 1 : 2;
  putAscii(out, 1, 5, 'CD001');
  out[6] = 1; // descriptor version
  text(out, 8, 32, ''); // system identifier
  text(out, 40, 32, f.volumeId);
  putBoth32(out, 80, f.volumeSectors);
  if (f.kind === 'joliet') out.set(JOLIET_ESCAPE, 88);
  putBoth16(out, 120, 1); // volume set size
  putBoth16(out, 124, 1); // volume sequence number
  putBoth16(out, 128, SECTOR); // logical block size
  putBoth32(out, 132, f.pathTableSize);
  putU32LE(out, 140, f.lPathTableSector);
  putU32BE(out, 148, f.mPathTableSector);
  out.set(f.rootRecord, 156);
  text(out, 190, 128, ''); // volume set identifier
  text(out, 318, 128, ''); // publisher
  text(out, 446, 128, ''); // data preparer
  text(out, 574, 128, APPLICATION_ID);
  text(out, 702, 37, ''); // copyright file
  text(out, 739, 37, ''); // abstract file
  text(out, 776, 37, ''); // bibliographic file
  const stamp = decDateTime(f.date);
  out.set(stamp, 813); // creation
  out.set(stamp, 830); // modification
  out.set(unsetDecDateTime(), 847); // expiration
  out.set(unsetDecDateTime(), 864); // effective
  out[881] = 1; // file structure version
  return out;
};

/** ECMA-119 8.3: ends the volume descriptor set. */
export const terminatorDescriptor = (): Uint8Array => {
  const out = new Uint8Array(SECTOR);
  out[0] = 255;
  putAscii(out, 1, 5, 'CD001');
  out[6] = 1;
  return out;
};
