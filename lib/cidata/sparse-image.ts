// A disk image as the bytes in use and its full length: the rest is zeros, left as a hole instead of written.

export interface SparseImage {
  /** The image's first bytes; everything after them up to `size` is zeros. */
  head: Uint8Array;
  /** Length of the whole image in bytes (at least head.length). */
  size: number;
}

/** The whole image as one array, zeros included. */
export const denseImage = (image: SparseImage): Uint8Array => {
  if (image.head.length === image.size) return image.head;
  const out = new Uint8Array(image.size);
  out.set(image.head);
  return out;
};
