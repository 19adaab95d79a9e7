// The fields of a qcow2 header that decide which files opening it reads (backing file, external data file),
// parsed by qlaunch itself from the file's first bytes, so no tool has to open the image to find out. Pure.

/** `QFI\xfb`: qcow (version 1) and qcow2 alike; the version field tells them apart. */
export const QCOW_MAGIC: readonly number[] = [0x51, 0x46, 0x49, 0xfb];

/** Incompatible-feature bits (docs/interop/qcow2.txt); a reader must refuse an image with a bit it does not know. */
export const INCOMPATIBLE = { dirty: 0, corrupt: 1, dataFile: 2, compression: 3, extendedL2: 4 } as const;

/** Header extension types (docs/interop/qcow2.txt). */
export const EXTENSION = {
  end: 0,
  backingFormat: 0xe2792aca,
  featureNames: 0x6803f857,
  cryptoHeader: 0x0537be77,
  bitmaps: 0x23852875,
  dataFile: 0x44415441,
} as const;

const V2_HEADER = 72;
const V3_HEADER = 104;
// QEMU's limits on cluster_bits: 512 B to 2 MiB clusters.
const MIN_CLUSTER_BITS = 9;
const MAX_CLUSTER_BITS = 21;

export interface Qcow2Header {
  version: number;
  clusterBits: number;
  /** Where the backing file name sits, and its length; both 0 for a self-contained image. */
  backingFileOffset: bigint;
  backingFileSize: number;
  /** The backing file name, when it lies within the bytes given. */
  backingFile: string | undefined;
  /** 0 none, 1 AES, 2 LUKS. */
  cryptMethod: number;
  /** 0 for version 2, which has no feature fields. */
  incompatibleFeatures: bigint;
  /** Types of the header extensions, in file order, up to the end marker. */
  extensions: number[];
  /** The external data file's name (extension 0x44415441), if there is one. */
  dataFile: string | undefined;
}

export type Qcow2Parse = { ok: true; header: Qcow2Header } | { ok: false; problem: string };

const latin1 = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);

/** The cluster size a qcow2 header declares, or undefined if `head` is not a plausible qcow2 header start. */
export function qcow2ClusterSize(head: Uint8Array): number | undefined {
  if (head.length < 24 || !QCOW_MAGIC.every((byte, i) => head[i] === byte)) return undefined;
  const bits = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(20);
  return bits >= MIN_CLUSTER_BITS && bits <= MAX_CLUSTER_BITS ? 2 ** bits : undefined;
}

/**
 * Parses a qcow2 (version 2 or 3) header from the file's first bytes. `head` must hold the first
 * min(size, cluster size) bytes (the header extensions end within the first cluster), `size` is the file's.
 */
export function parseQcow2Header(head: Uint8Array, size: number): Qcow2Parse {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const damaged = (why: string): Qcow2Parse => ({
    ok: false,
    problem: `its qcow2 header is damaged (${why})`,
  });
  if (head.length < V2_HEADER) return damaged(`the file ends ${head.length} bytes in`);
  const version = view.getUint32(4);
  if (version !== 2 && version !== 3) return damaged(`version ${version}`);
  const clusterBits = view.getUint32(20);
  if (clusterBits < MIN_CLUSTER_BITS || clusterBits > MAX_CLUSTER_BITS) {
    return damaged(`cluster bits ${clusterBits}`);
  }
  const clusterSize = 2 ** clusterBits;
  const backingFileOffset = view.getBigUint64(8);
  const backingFileSize = view.getUint32(16);
  let headerLength = V2_HEADER;
  let incompatibleFeatures = 0n;
  if (version === 3) {
    if (head.length < V3_HEADER) return damaged(`the file ends ${head.length} bytes in`);
    incompatibleFeatures = view.getBigUint64(72);
    headerLength = view.getUint32(100);
    if (headerLength < V3_HEADER || headerLength > clusterSize)
      return damaged(`header length ${headerLength}`);
  }
  // Extensions end where the backing file name starts, or at the end of the first cluster (as QEMU reads them).
  const extensionsEnd =
    backingFileOffset !== 0n && backingFileOffset < BigInt(clusterSize)
      ? Number(backingFileOffset)
      : clusterSize;
  const extensions: number[] = [];
  let dataFile: string | undefined;
  let at = headerLength;
  while (at < extensionsEnd) {
    if (at + 8 > extensionsEnd) return damaged(`a header extension at byte ${at} runs past the header`);
    if (at + 8 > head.length) {
      if (at + 8 > size) return damaged(`the file ends inside its header extensions`);
      throw new Error(`parseQcow2Header was given ${head.length} bytes; it needs ${extensionsEnd}`);
    }
    const type = view.getUint32(at);
    const length = view.getUint32(at + 4);
    at += 8;
    if (length > extensionsEnd - at) return damaged(`header extension 0x${type.toString(16)} is too long`);
    if (type === EXTENSION.end) break;
    extensions.push(type);
    if (type === EXTENSION.dataFile) {
      if (at + length > head.length) return damaged('the file ends inside its data file name');
      dataFile = latin1(head.subarray(at, at + length));
    }
    // Each extension's data is padded to a multiple of 8 bytes.
    at += Math.ceil(length / 8) * 8;
  }
  const nameStart = Number(backingFileOffset);
  const backingFile =
    backingFileOffset !== 0n && nameStart + backingFileSize <= head.length
      ? latin1(head.subarray(nameStart, nameStart + backingFileSize))
      : undefined;
  return {
    ok: true,
    header: {
      version,
      clusterBits,
      backingFileOffset,
      backingFileSize,
      backingFile,
      cryptMethod: view.getUint32(32),
      incompatibleFeatures,
      extensions,
      dataFile,
    },
  };
}
