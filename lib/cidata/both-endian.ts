// Little-, big- and both-endian integer and padded-text writers for on-disk structures.

export const putU16LE = (buf: Uint8Array, offset: number, value: number): void => {
  buf[offset] = value & 0xff;
  buf[offset + 1] = (value >>> 8) & 0xff;
};

export const putU16BE = (buf: Uint8Array, offset: number, value: number): void => {
  buf[offset] = (value >>> 8) & 0xff;
  buf[offset + 1] = value & 0xff;
};

export const putU32LE = (buf: Uint8Array, offset: number, value: number): void => {
  putU16LE(buf, offset, value & 0xffff);
  putU16LE(buf, offset + 2, value >>> 16);
};

export const putU32BE = (buf: Uint8Array, offset: number, value: number): void => {
  putU16BE(buf, offset, value >>> 16);
  putU16BE(buf, offset + 2, value & 0xffff);
};

/** ECMA-119 7.2.3: a 16-bit value recorded little-endian then big-endian (4 bytes). */
export const putBoth16 = (buf: Uint8Array, offset: number, value: number): void => {
  putU16LE(buf, offset, value);
  putU16BE(buf, offset + 2, value);
};

/** ECMA-119 7.3.3: a 32-bit value recorded little-endian then big-endian (8 bytes). */
export const putBoth32 = (buf: Uint8Array, offset: number, value: number): void => {
  putU32LE(buf, offset, value);
  putU32BE(buf, offset + 4, value);
};

/** Writes ASCII `text` into a `length`-byte field, padded with `fill` (spaces by default). */
export const putAscii = (
  buf: Uint8Array,
  offset: number,
  length: number,
  text: string,
  fill = 0x20,
): void => {
  const n = Math.min(text.length, length);
  for (let i = 0; i < n; i++) buf[offset + i] = text.charCodeAt(i) & 0xff;
  buf.fill(fill, offset + n, offset + length);
};

/** Writes `text` as UCS-2 big-endian into a `length`-byte field padded with UCS-2 spaces. */
export const putUcs2BE = (buf: Uint8Array, offset: number, length: number, text: string): void => {
  for (let i = 0; i + 1 < length; i += 2) {
    const unit = i / 2 < text.length ? text.charCodeAt(i / 2) : 0x20;
    buf[offset + i] = unit >>> 8;
    buf[offset + i + 1] = unit & 0xff;
  }
  // An odd-length field (the 37-byte file identifiers) ends with one zero byte.
  if (length % 2 === 1) buf[offset + length - 1] = 0;
};
