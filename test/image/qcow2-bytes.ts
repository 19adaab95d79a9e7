// Hand-written qcow2 headers for the inspector's unit tests, laid out as docs/interop/qcow2.txt describes.

export interface Qcow2Fields {
  version?: number;
  clusterBits?: number;
  /** A backing file name, written after the header extensions. */
  backing?: string;
  cryptMethod?: number;
  incompatible?: bigint;
  /** Version 3's header_length (default 104). */
  headerLength?: number;
  extensions?: { type: number; data: Uint8Array }[];
  /** Bytes to return (default one cluster). */
  length?: number;
}

export const DATA_FILE_EXTENSION = 0x44415441;
export const BACKING_FORMAT_EXTENSION = 0xe2792aca;

/** The first cluster of a qcow2 with the given header fields (everything else zero). */
export function qcow2Bytes(fields: Qcow2Fields = {}): Uint8Array {
  const version = fields.version ?? 3;
  const clusterBits = fields.clusterBits ?? 16;
  const bytes = new Uint8Array(fields.length ?? 2 ** Math.min(clusterBits, 16));
  const view = new DataView(bytes.buffer);
  bytes.set([0x51, 0x46, 0x49, 0xfb], 0);
  view.setUint32(4, version);
  view.setUint32(20, clusterBits);
  view.setBigUint64(24, 1024n * 1024n);
  view.setUint32(32, fields.cryptMethod ?? 0);
  const headerLength = version >= 3 ? (fields.headerLength ?? 104) : 72;
  if (version >= 3) {
    view.setBigUint64(72, fields.incompatible ?? 0n);
    view.setUint32(96, 4);
    view.setUint32(100, headerLength);
  }
  let at = headerLength;
  for (const { type, data } of fields.extensions ?? []) {
    view.setUint32(at, type);
    view.setUint32(at + 4, data.length);
    bytes.set(data, at + 8);
    at += 8 + Math.ceil(data.length / 8) * 8;
  }
  // The end marker is type 0, length 0: the zero bytes already there.
  at += 8;
  if (fields.backing !== undefined) {
    const name = new TextEncoder().encode(fields.backing);
    view.setBigUint64(8, BigInt(at));
    view.setUint32(16, name.length);
    bytes.set(name, at);
  }
  return bytes;
}

export const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
