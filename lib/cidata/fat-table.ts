// The file allocation table itself: cluster chains packed as 12- or 16-bit entries.

import { putU16LE } from './both-endian.js';
import { MEDIA_DESCRIPTOR } from './fat-boot.js';

export class FatTable {
  private readonly entries: Uint32Array;
  private readonly eoc: number;
  /** Entries past this one are free (zero), so encoding stops here. */
  private end = 2;

  constructor(
    readonly bits: 12 | 16,
    clusterCount: number,
  ) {
    this.entries = new Uint32Array(clusterCount + 2);
    this.eoc = bits === 12 ? 0xfff : 0xffff;
    // Entry 0 repeats the media descriptor; entry 1 is end-of-chain with the "clean" bits set.
    this.entries[0] = (bits === 12 ? 0xf00 : 0xff00) | MEDIA_DESCRIPTOR;
    this.entries[1] = this.eoc;
  }

  /** Chains `count` clusters from `first` (contiguous), ending with end-of-chain. */
  chain(first: number, count: number): void {
    for (let i = 0; i < count; i++) this.entries[first + i] = i === count - 1 ? this.eoc : first + i + 1;
    this.end = Math.max(this.end, first + count);
  }

  /** Encodes the table into `out` (one FAT copy, already zeroed: free entries are left as they are). */
  encodeInto(out: Uint8Array): void {
    if (this.bits === 16) {
      for (let n = 0; n < this.end; n++) putU16LE(out, n * 2, this.entries[n]!);
      return;
    }
    // FAT12: two entries share three bytes, the odd one in the high nibbles.
    for (let n = 0; n < this.end; n++) {
      const v = this.entries[n]!;
      const at = (n * 3) >> 1;
      if (n % 2 === 0) {
        out[at] = v & 0xff;
        out[at + 1] = (out[at + 1]! & 0xf0) | ((v >> 8) & 0x0f);
      } else {
        out[at] = (out[at]! & 0x0f) | ((v & 0x0f) << 4);
        out[at + 1] = (v >> 4) & 0xff;
      }
    }
  }
}
