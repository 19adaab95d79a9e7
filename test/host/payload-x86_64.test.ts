import t from 'tap';
import {
  X86_64_SECTIONS,
  x86_64Image,
  x86_64Payload,
  x86_64Sections,
} from '../../lib/host/payload-x86_64.js';

const u32At = (bytes: Uint8Array, at: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);

t.test('a 64 KiB BIOS image whose sections do not overlap', async (t) => {
  const image = x86_64Image();
  t.equal(image.length, 0x10000, 'QEMU takes BIOS images in whole 64 KiB');
  const sections = x86_64Sections();
  const starts = Object.entries(X86_64_SECTIONS).sort(([, a], [, b]) => a - b);
  for (const [i, [name, start]] of starts.entries()) {
    const end = start + (sections[name as keyof typeof sections]?.length ?? 0);
    const next = starts[i + 1]?.[1] ?? image.length;
    t.ok(end <= next, `${name} ends at ${end.toString(16)}, before ${next.toString(16)}`);
    t.same([...image.subarray(start, end)], sections[name as keyof typeof sections], `${name} is in place`);
  }
});

t.test('the reset vector jumps to the real-mode code', async (t) => {
  const image = x86_64Image();
  // jmp far 0xf000:real16: the BIOS's low alias starts at 0xf0000.
  t.same([...image.subarray(0xfff0, 0xfff5)], [0xea, X86_64_SECTIONS.real16, 0x00, 0x00, 0xf0]);
  t.equal(image[X86_64_SECTIONS.real16], 0xfa, 'the code starts with cli');
});

t.test('the far jumps and the GDTR point at the right linear addresses', async (t) => {
  const image = x86_64Image();
  const real16 = x86_64Sections().real16;
  const jmp16 = X86_64_SECTIONS.real16 + real16.length - 8; // 66 ea <u32 offset> <u16 selector>
  t.same([image[jmp16], image[jmp16 + 1]], [0x66, 0xea]);
  t.equal(u32At(image, jmp16 + 2), 0xf0000 + X86_64_SECTIONS.pm32);
  const pm32 = x86_64Sections().pm32;
  const jmp32 = X86_64_SECTIONS.pm32 + pm32.length - 7; // ea <u32 offset> <u16 selector>
  t.equal(image[jmp32], 0xea);
  t.equal(u32At(image, jmp32 + 1), 0xf0000 + X86_64_SECTIONS.lm64);
  t.equal(image[jmp32 + 5], 0x18, 'into the 64-bit code selector');
  t.equal(u32At(image, X86_64_SECTIONS.gdtr + 2), 0xf0000 + X86_64_SECTIONS.gdt);
  t.equal(image[X86_64_SECTIONS.gdtr], 4 * 8 - 1, 'GDT limit covers four descriptors');
  // Descriptor 0x18 has L=1 (bit 53) and D=0: a 64-bit code segment.
  t.equal(image[X86_64_SECTIONS.gdt + 0x18 + 6], 0xaf);
});

t.test('the payload record', async (t) => {
  t.equal(x86_64Payload.exitStatus, (0x21 << 1) | 1, 'isa-debug-exit turns 0x21 into 67');
  t.same(x86_64Payload.loadArgs('/tmp/p.bin'), [
    '-bios',
    '/tmp/p.bin',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
  ]);
  t.same(
    x86_64Payload.stages.map((s) => s.marker),
    ['R', 'P', 'L'],
  );
  for (const { marker } of x86_64Payload.stages) {
    // Each marker is a `mov al, imm8` (b0 xx) somewhere in the code.
    const image = x86_64Image();
    t.ok(
      image.some((byte, i) => byte === 0xb0 && image[i + 1] === marker.charCodeAt(0)),
      `code writes ${marker}`,
    );
  }
});
