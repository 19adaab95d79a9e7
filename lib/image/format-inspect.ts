// Which disk image format a file is, from its first and last bytes, and whether qlaunch may open it: only raw, and
// qcow2 that reads no file but itself. Read by qlaunch before any qemu-img or QEMU opens the file. Pure.

import { INCOMPATIBLE, parseQcow2Header, QCOW_MAGIC, qcow2ClusterSize } from './qcow2-header.js';

/** The formats qlaunch opens; each is handed to qemu-img and QEMU by name, never probed. */
export type AcceptedFormat = 'raw' | 'qcow2';

export type RefusalFix = 'convert' | 'recopy' | 'decrypt';

export type FormatVerdict =
  | { ok: true; format: AcceptedFormat }
  | {
      ok: false;
      /** What the file is (vmdk, vhdx, qcow2, …), in qemu-img's names. */
      format: string;
      /** Why it is refused, as a clause: "it is a vmdk image, which …". */
      problem: string;
      /** The way out: convert it to a self-contained qcow2, copy it again (damaged), or use an unencrypted one. */
      fix: RefusalFix;
    };

/** The first bytes, the last 512 (or fewer) and the size of the file. */
export interface ImageBytes {
  head: Uint8Array;
  tail: Uint8Array;
  size: number;
}

/** What every inspection reads at least: the default qcow2 cluster, which holds its header extensions. */
export const HEAD_BYTES = 64 * 1024;
const FOOTER = 512;

/** How many leading bytes inspectImage needs, given the first HEAD_BYTES (more for a qcow2 with big clusters). */
export const bytesToInspect = (head: Uint8Array, size: number): number =>
  Math.min(size, Math.max(HEAD_BYTES, qcow2ClusterSize(head) ?? 0));

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const hasAt = (bytes: Uint8Array, offset: number, magic: readonly number[]): boolean =>
  bytes.length >= offset + magic.length && magic.every((byte, i) => bytes[offset + i] === byte);

const READS_OTHER_FILES = 'which can make QEMU read other files of this host';
const OTHER_FORMAT = 'which qlaunch does not open (it takes raw and qcow2)';

// Formats QEMU opens, by the magic bytes at the start of the file. The ones that can name other files say so.
const HEAD_MAGIC: ReadonlyArray<{
  format: string;
  offset: number;
  magic: readonly number[];
  why: string;
  fix?: RefusalFix;
}> = [
  { format: 'vmdk', offset: 0, magic: ascii('KDMV'), why: READS_OTHER_FILES },
  { format: 'vmdk', offset: 0, magic: ascii('COWD'), why: READS_OTHER_FILES },
  { format: 'vhdx', offset: 0, magic: ascii('vhdxfile'), why: READS_OTHER_FILES },
  { format: 'vpc', offset: 0, magic: ascii('conectix'), why: READS_OTHER_FILES },
  { format: 'qed', offset: 0, magic: [...ascii('QED'), 0], why: READS_OTHER_FILES },
  {
    format: 'luks',
    offset: 0,
    magic: [...ascii('LUKS'), 0xba, 0xbe],
    why: 'which is encrypted',
    fix: 'decrypt',
  },
  { format: 'vdi', offset: 0x40, magic: [0x7f, 0x10, 0xda, 0xbe], why: OTHER_FORMAT },
  { format: 'parallels', offset: 0, magic: ascii('WithoutFreeSpace'), why: READS_OTHER_FILES },
  { format: 'parallels', offset: 0, magic: ascii('WithouFreSpacExt'), why: READS_OTHER_FILES },
  { format: 'bochs', offset: 0, magic: ascii('Bochs Virtual HD Image'), why: OTHER_FORMAT },
  { format: 'cloop', offset: 0, magic: ascii('#!/bin/sh\n#V2.0 Format\n'), why: OTHER_FORMAT },
];

// Formats whose mark is in the last 512 bytes: a fixed-size VHD's footer, a DMG's trailer.
const TAIL_MAGIC: ReadonlyArray<{ format: string; magic: readonly number[] }> = [
  { format: 'vpc', magic: ascii('conectix') },
  { format: 'dmg', magic: ascii('koly') },
];

/**
 * Whether `head` is a VMDK text descriptor (whose extent lines name host files), as QEMU's vmdk probe decides:
 * comment and blank lines, then `version=1`, `2` or `3`; or the descriptor's own first line.
 */
export function isVmdkDescriptor(head: Uint8Array): boolean {
  // QEMU probes a format from the first 2 KiB.
  const text = new TextDecoder('latin1').decode(head.subarray(0, 2048));
  if (text.startsWith('# Disk DescriptorFile')) return true;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (/^ *\r?$/.test(line)) continue;
    return /^version=[123]\r?$/.test(line);
  }
  return false;
}

const refused = (format: string, problem: string, fix: RefusalFix = 'convert'): FormatVerdict => ({
  ok: false,
  format,
  problem,
  fix,
});

function inspectQcow2(head: Uint8Array, size: number): FormatVerdict {
  const parsed = parseQcow2Header(head, size);
  if (!parsed.ok) return refused('qcow2', parsed.problem, 'recopy');
  const h = parsed.header;
  if (h.backingFileOffset !== 0n || h.backingFileSize !== 0) {
    return refused('qcow2', `it is an overlay on ${h.backingFile ?? 'a backing file'}`);
  }
  const dataFileBit = (h.incompatibleFeatures >> BigInt(INCOMPATIBLE.dataFile)) & 1n;
  if (dataFileBit || h.dataFile !== undefined) {
    return refused(
      'qcow2',
      `it keeps its data in another file${h.dataFile === undefined ? '' : ` (${h.dataFile})`}, ${READS_OTHER_FILES}`,
    );
  }
  const known = Object.values(INCOMPATIBLE).reduce((mask, bit) => mask | (1n << BigInt(bit)), 0n);
  const unknown = h.incompatibleFeatures & ~known;
  if (unknown !== 0n) {
    return refused(
      'qcow2',
      `it uses qcow2 features qlaunch does not know (incompatible bits 0x${unknown.toString(16)})`,
    );
  }
  if (h.cryptMethod !== 0) return refused('qcow2', 'it is encrypted', 'decrypt');
  return { ok: true, format: 'qcow2' };
}

/**
 * The verdict on a file from its bytes: qcow2 (self-contained), raw (no format's mark), or refused, naming what
 * it is. A "raw" verdict says only that no format claims the file; whether it looks like a disk is checked apart.
 */
export function inspectImage({ head, tail, size }: ImageBytes): FormatVerdict {
  if (hasAt(head, 0, QCOW_MAGIC)) {
    const version = head.length >= 8 ? new DataView(head.buffer, head.byteOffset, 8).getUint32(4) : undefined;
    if (version === 1) return refused('qcow', `it is a qcow (version 1) image, ${READS_OTHER_FILES}`);
    return inspectQcow2(head, size);
  }
  const found = HEAD_MAGIC.find(({ offset, magic }) => hasAt(head, offset, magic));
  if (found) return refused(found.format, `it is a ${found.format} image, ${found.why}`, found.fix);
  if (isVmdkDescriptor(head)) return refused('vmdk', `it is a vmdk descriptor, ${READS_OTHER_FILES}`);
  if (tail.length >= FOOTER) {
    const footer = tail.subarray(tail.length - FOOTER);
    const inTail = TAIL_MAGIC.find(({ magic }) => hasAt(footer, 0, magic));
    if (inTail)
      return refused(inTail.format, `it is a ${inTail.format} image (by its footer), ${OTHER_FORMAT}`);
  }
  return { ok: true, format: 'raw' };
}
