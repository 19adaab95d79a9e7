// What an ELF file is built for, read from its headers (pure): whether a binary can be a guest's first program.

import type { Arch } from '../arch/table.js';

const MACHINE: Readonly<Record<Arch, number>> = { x86_64: 62, aarch64: 183, riscv64: 243 };
const PT_INTERP = 3;

export interface ElfFacts {
  /** The architecture it runs on, when it is one qlaunch knows. */
  arch: Arch | undefined;
  /** No program interpreter: it runs without a dynamic loader or shared libraries. */
  static: boolean;
}

/** The facts of a 64-bit little-endian ELF file; undefined for anything else. */
export function elfFacts(bytes: Uint8Array): ElfFacts | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // \x7fELF, 64-bit, little-endian: all three arches qlaunch boots.
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return undefined;
  const machine = b.readUInt16LE(18);
  const arch = (Object.keys(MACHINE) as Arch[]).find((a) => MACHINE[a] === machine);
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  let interp = false;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > b.length) return undefined;
    if (b.readUInt32LE(at) === PT_INTERP) interp = true;
  }
  return { arch, static: !interp };
}
