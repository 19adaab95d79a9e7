import t from 'tap';
import { aarch64Image, aarch64Payload } from '../../lib/host/payload-aarch64.js';

const words = (bytes: Uint8Array): number[] =>
  Array.from({ length: bytes.length / 4 }, (_, i) => new DataView(bytes.buffer).getUint32(i * 4, true));

t.test('little-endian A64 words, checked against their encodings', async (t) => {
  const image = aarch64Image();
  t.equal(image.length % 4, 0);
  t.same(
    words(image).map((w) => w.toString(16).padStart(8, '0')),
    [
      'd2a12001', // movz x1, #0x900, lsl #16
      '52800822', // movz w2, #0x41
      '39000022', // strb w2, [x1]
      'd2800100', // movz x0, #0x8
      'f2b08000', // movk x0, #0x8400, lsl #16
      'd4000002', // hvc #0
      '14000000', // b .
    ],
  );
});

t.test('the payload record', async (t) => {
  t.same(aarch64Payload.loadArgs('/tmp/p.bin'), ['-kernel', '/tmp/p.bin']);
  t.equal(aarch64Payload.exitStatus, 0, 'PSCI SYSTEM_OFF ends QEMU with status 0');
  t.same(
    aarch64Payload.stages.map((s) => s.marker),
    ['A'],
  );
});
