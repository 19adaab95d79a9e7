// The release a Linux kernel image reports (`uname -r`), read from the image itself (pure): it names the
// kernel's modules tree.

import { gunzipSync } from 'node:zlib';

// The banner every kernel carries: "Linux version 6.1.0-57-amd64 (debian-kernel@…) …".
const BANNER = /Linux version (\d[^\s\0]*) \(/;

/** x86 bzImage: the setup header points at the version string ("6.1.0-57-amd64 (…) #1 SMP …"). */
function bzImageVersion(b: Buffer): string | undefined {
  if (b.length < 0x210 || b.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const at = b.readUInt16LE(0x20e) + 0x200;
  const text = b.toString('latin1', at, Math.min(b.length, at + 256));
  return /^(\d[^\s\0]*)/.exec(text)?.[1];
}

/** The kernel's release, or undefined when the image does not say (compressed in a way not read here). */
export function kernelRelease(image: Uint8Array): string | undefined {
  const b = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const fromHeader = bzImageVersion(b);
  if (fromHeader) return fromHeader;
  // Debian's arm64 and riscv64 vmlinuz are gzip'd Images; vmlinux and a plain Image carry the banner as is.
  const plain = b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b;
  return BANNER.exec(plain.toString('latin1'))?.[1];
}
