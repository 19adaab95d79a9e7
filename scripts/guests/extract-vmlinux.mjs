#!/usr/bin/env node
// Extracts the uncompressed ELF vmlinux from an x86 bzImage so QEMU can boot it directly through its PVH note.
//
// Usage: node extract-vmlinux.mjs BZIMAGE OUT
// The payload is located through the boot protocol header (payload_offset/payload_length, protocol >= 2.08),
// recognised by its magic and decompressed by the matching host tool (xz, zstd, gzip, ...).
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const fail = (message) => {
  process.stderr.write(`extract-vmlinux: ${message}\n`);
  process.exit(1);
};

const [bzImagePath, outPath] = process.argv.slice(2);
if (!bzImagePath || !outPath) fail('usage: extract-vmlinux.mjs BZIMAGE OUT');

const image = readFileSync(bzImagePath);
if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') {
  fail(`${bzImagePath} is not an x86 bzImage (no "HdrS" boot header)`);
}
const protocol = image.readUInt16LE(0x206);
if (protocol < 0x208) fail(`boot protocol ${protocol.toString(16)} predates payload_offset (needs >= 2.08)`);

// setup_sects == 0 means 4 (boot protocol quirk); the protected-mode kernel follows the setup sectors.
const setupSects = image[0x1f1] || 4;
const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
const length = image.readUInt32LE(0x24c);
if (start + length > image.length) fail('payload_offset/payload_length point past the end of the file');
// The build appends the decompressed size as 4 trailing bytes (read by mkpiggy); decompressors reject it.
const payload = image.subarray(start, start + length - 4);

const decompressors = [
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], argv: ['xz', '-dc', '--single-stream'] },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], argv: ['zstd', '-dcq'] },
  { name: 'gzip', magic: [0x1f, 0x8b], argv: ['gzip', '-dc'] },
  { name: 'lzma', magic: [0x5d, 0x00, 0x00], argv: ['xz', '-dc', '--format=lzma'] },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], argv: ['bzip2', '-dc'] },
  { name: 'lz4', magic: [0x02, 0x21, 0x4c, 0x18], argv: ['lz4', '-dc'] },
  { name: 'lzo', magic: [0x89, 0x4c, 0x5a, 0x4f], argv: ['lzop', '-dc'] },
];
const format = decompressors.find((d) => d.magic.every((byte, i) => payload[i] === byte));
if (!format) fail(`unknown payload compression (first bytes ${payload.subarray(0, 6).toString('hex')})`);

const [tool, ...args] = format.argv;
const result = spawnSync(tool, args, { input: payload, maxBuffer: 1 << 30 });
if (result.error)
  fail(`cannot run ${tool} (${result.error.message}); install it (it decompresses ${format.name})`);
if (result.status !== 0) fail(`${tool} failed: ${result.stderr.toString().trim()}`);
const vmlinux = result.stdout;

// Refuse anything QEMU could not boot through PVH: a 64-bit ELF with a Xen PHYS32_ENTRY note.
const hasPvhNote = (elf) => {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2) return false;
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (elf.readUInt32LE(ph) !== 4) continue; // PT_NOTE
    const offset = Number(elf.readBigUInt64LE(ph + 8));
    const end = offset + Number(elf.readBigUInt64LE(ph + 32));
    for (let n = offset; n + 12 <= end; ) {
      const namesz = elf.readUInt32LE(n);
      const descsz = elf.readUInt32LE(n + 4);
      const type = elf.readUInt32LE(n + 8);
      const name = elf.toString('latin1', n + 12, n + 12 + namesz).replace(/\0+$/, '');
      if (name === 'Xen' && type === 18) return true; // XEN_ELFNOTE_PHYS32_ENTRY
      n += 12 + Math.ceil(namesz / 4) * 4 + Math.ceil(descsz / 4) * 4;
    }
  }
  return false;
};
if (!hasPvhNote(vmlinux)) fail(`the ${format.name} payload is not an ELF vmlinux with a PVH entry note`);

writeFileSync(`${outPath}.part`, vmlinux);
renameSync(`${outPath}.part`, outPath);
process.stderr.write(`extract-vmlinux: ${format.name} payload, ${vmlinux.length} bytes, PVH note found\n`);
