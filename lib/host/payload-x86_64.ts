// The x86_64 KVM probe payload: a hand-assembled 64 KiB `-bios` image that walks the CPU from reset to long mode.
//
// Real mode → protected mode → long mode with 4-level paging is what every Linux boot (through SeaBIOS, OVMF
// or the kernel's own entry code) does first. A paravirtual KVM such as kvm_pvm runs the real-mode part and
// then never completes the far jump into protected mode, so finishing this code proves KVM runs real guests.
// Progress goes to COM1 ('R', 'P', 'L'); the end is a write to isa-debug-exit, which makes QEMU exit 67.

import type { ProbePayload } from './payload-types.js';

/** Where QEMU maps the last 128 KiB of `-bios` below 1 MiB: our image's offset 0 runs at this linear address. */
const BIOS_BASE = 0xf0000;
const COM1 = 0x3f8;
const DEBUG_EXIT_PORT = 0xf4;
/** isa-debug-exit turns a written value v into exit status (v << 1) | 1. */
const DONE_VALUE = 0x21;
/** Page tables go in RAM (the BIOS region is read-only): PML4, PDPT and PD, one 4 KiB page each. */
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000;
/** Scratch byte written through a non-identity mapping and read back through the identity one. */
const SCRATCH = 0x5000;
/** PML4 entry 1 maps 512 GiB up onto the same PDPT: this virtual address is physical SCRATCH. */
const SCRATCH_ALIAS = 2 ** 39 + SCRATCH;

/** Section offsets inside the image; each section must end before the next one starts. */
export const X86_64_SECTIONS = {
  real16: 0x0000,
  pm32: 0x0040,
  lm64: 0x0100,
  gdt: 0x0140,
  gdtr: 0x0160,
  reset: 0xfff0,
} as const;

const IMAGE_SIZE = 0x10000; // QEMU wants a BIOS of a whole number of 64 KiB.

const u16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
const u32 = (v: number): number[] => [...u16(v & 0xffff), ...u16(v >>> 16)];
const u64 = (v: number): number[] => [...u32(v % 2 ** 32), ...u32(Math.floor(v / 2 ** 32))];
const linear = (section: keyof typeof X86_64_SECTIONS): number => BIOS_BASE + X86_64_SECTIONS[section];

/** 16-bit real mode, CS=0xf000: say 'R', load the GDT, set CR0.PE, far-jump into 32-bit code. */
const real16 = (): number[] => [
  ...[0xfa], // cli
  ...[0x8c, 0xc8], // mov ax, cs
  ...[0x8e, 0xd8], // mov ds, ax ; data reads come from our image
  ...[0xba, ...u16(COM1)], // mov dx, 0x3f8
  ...[0xb0, 0x52], // mov al, 'R'
  ...[0xee], // out dx, al
  ...[0x66, 0x0f, 0x01, 0x16, ...u16(X86_64_SECTIONS.gdtr)], // o32 lgdt [gdtr] ; 32-bit base
  ...[0x0f, 0x20, 0xc0], // mov eax, cr0
  ...[0x0c, 0x01], // or al, 1 ; CR0.PE
  ...[0x0f, 0x22, 0xc0], // mov cr0, eax
  ...[0x66, 0xea, ...u32(linear('pm32')), ...u16(0x08)], // jmp dword 0x08:pm32
];

/** 32-bit protected mode: say 'P', build identity + alias page tables, enable PAE, EFER.LME, CR0.PG. */
const pm32 = (): number[] => [
  ...[0xb8, ...u32(0x10)], // mov eax, 0x10 ; flat data selector
  ...[0x8e, 0xd8], // mov ds, ax
  ...[0x8e, 0xc0], // mov es, ax
  ...[0x8e, 0xd0], // mov ss, ax
  ...[0xb0, 0x50], // mov al, 'P' ; dx still holds COM1
  ...[0xee], // out dx, al
  ...[0xbf, ...u32(PML4)], // mov edi, PML4
  ...[0x31, 0xc0], // xor eax, eax
  ...[0xb9, ...u32(3 * 1024)], // mov ecx, 3 pages of dwords
  ...[0xf3, 0xab], // rep stosd ; zero PML4, PDPT, PD
  ...[0xc7, 0x05, ...u32(PML4), ...u32(PDPT | 3)], // mov dword [PML4], PDPT | present | writable
  ...[0xc7, 0x05, ...u32(PML4 + 8), ...u32(PDPT | 3)], // mov dword [PML4 + 8], same PDPT: the 512 GiB alias
  ...[0xc7, 0x05, ...u32(PDPT), ...u32(PD | 3)], // mov dword [PDPT], PD | present | writable
  ...[0xc7, 0x05, ...u32(PD), ...u32(0x83)], // mov dword [PD], 0 | present | writable | 2 MiB page
  ...[0x0f, 0x20, 0xe0], // mov eax, cr4
  ...[0x83, 0xc8, 0x20], // or eax, 0x20 ; CR4.PAE
  ...[0x0f, 0x22, 0xe0], // mov cr4, eax
  ...[0xb8, ...u32(PML4)], // mov eax, PML4
  ...[0x0f, 0x22, 0xd8], // mov cr3, eax
  ...[0xb9, ...u32(0xc0000080)], // mov ecx, IA32_EFER
  ...[0x0f, 0x32], // rdmsr ; clobbers edx
  ...[0x0d, ...u32(0x100)], // or eax, 0x100 ; EFER.LME
  ...[0x0f, 0x30], // wrmsr
  ...[0x0f, 0x20, 0xc0], // mov eax, cr0
  ...[0x0d, ...u32(0x80000000)], // or eax, 0x80000000 ; CR0.PG: long mode becomes active
  ...[0x0f, 0x22, 0xc0], // mov cr0, eax
  ...[0xea, ...u32(linear('lm64')), ...u16(0x18)], // jmp 0x18:lm64 ; into the 64-bit code segment
];

/** 64-bit long mode: say 'L', write through the alias mapping, read back through the identity one, exit. */
const lm64 = (): number[] => [
  ...[0x66, 0xba, ...u16(COM1)], // mov dx, 0x3f8
  ...[0xb0, 0x4c], // mov al, 'L'
  ...[0xee], // out dx, al
  ...[0xb0, DONE_VALUE], // mov al, 0x21
  ...[0xa2, ...u64(SCRATCH_ALIAS)], // mov [abs SCRATCH_ALIAS], al
  ...[0x31, 0xc0], // xor eax, eax
  ...[0x8a, 0x04, 0x25, ...u32(SCRATCH)], // mov al, [SCRATCH] ; 0x21 only if paging translated
  ...[0xe6, DEBUG_EXIT_PORT], // out 0xf4, al ; QEMU exits (al << 1) | 1
  ...[0xf4], // hlt
  ...[0xeb, 0xfd], // jmp hlt
];

/** Null, flat 32-bit code (0x08), flat data (0x10), 64-bit code (0x18). */
const gdt = (): number[] => [
  ...u32(0),
  ...u32(0),
  ...[0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xcf, 0x00], // 0x08: base 0, limit 4 GiB, code, D=1
  ...[0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00], // 0x10: base 0, limit 4 GiB, data
  ...[0xff, 0xff, 0x00, 0x00, 0x00, 0x9a, 0xaf, 0x00], // 0x18: code, L=1
];

/** The GDTR operand: limit, then 32-bit linear base. */
const gdtr = (): number[] => [...u16(4 * 8 - 1), ...u32(linear('gdt'))];

/** The CPU starts at 0xfffffff0 (our offset 0xfff0) in real mode; jump to the start of the image. */
const reset = (): number[] => [0xea, ...u16(X86_64_SECTIONS.real16), ...u16(BIOS_BASE >>> 4)]; // jmp 0xf000:real16

/** Each section's bytes, by name, for tests that check the layout. */
export const x86_64Sections = (): Record<keyof typeof X86_64_SECTIONS, number[]> => ({
  real16: real16(),
  pm32: pm32(),
  lm64: lm64(),
  gdt: gdt(),
  gdtr: gdtr(),
  reset: reset(),
});

export function x86_64Image(): Uint8Array {
  const image = new Uint8Array(IMAGE_SIZE);
  for (const [name, bytes] of Object.entries(x86_64Sections())) {
    image.set(bytes, X86_64_SECTIONS[name as keyof typeof X86_64_SECTIONS]);
  }
  return image;
}

export const x86_64Payload: ProbePayload = {
  arch: 'x86_64',
  image: x86_64Image,
  memoryMiB: 16,
  loadArgs: (file) => [
    '-bios',
    file,
    '-device',
    `isa-debug-exit,iobase=0x${DEBUG_EXIT_PORT.toString(16)},iosize=0x04`,
  ],
  stages: [
    { marker: 'R', name: 'real mode' },
    { marker: 'P', name: 'protected mode' },
    { marker: 'L', name: 'long mode with paging' },
  ],
  exitStatus: (DONE_VALUE << 1) | 1,
};
