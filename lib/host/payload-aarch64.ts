// The aarch64 KVM probe payload: a hand-assembled raw `-kernel` image that prints to the PL011 and powers off.
//
// QEMU's boot stub enters it at EL1 with the MMU off; it writes 'A' to the virt machine's PL011 UART and asks
// for PSCI SYSTEM_OFF over HVC (the conduit QEMU's virt board uses both under KVM and under TCG without EL2/EL3),
// which makes QEMU exit 0. The code is position independent: only device addresses are absolute.

import type { ProbePayload } from './payload-types.js';

/** The virt board's PL011 UART data register. */
const VIRT_UART = 0x0900_0000;
const PSCI_SYSTEM_OFF = 0x8400_0008;

const words = (): number[] => [
  0xd2a0_0001 | ((VIRT_UART >>> 16) << 5), // movz x1, #0x0900, lsl #16 ; x1 = UART
  0x5280_0002 | ('A'.charCodeAt(0) << 5), // movz w2, #'A'
  0x3900_0022, // strb w2, [x1]
  0xd280_0000 | ((PSCI_SYSTEM_OFF & 0xffff) << 5), // movz x0, #0x0008
  0xf2a0_0000 | ((PSCI_SYSTEM_OFF >>> 16) << 5), // movk x0, #0x8400, lsl #16 ; x0 = SYSTEM_OFF
  0xd400_0002, // hvc #0
  0x1400_0000, // b . ; if the call returns
];

export function aarch64Image(): Uint8Array {
  const code = words();
  const view = new DataView(new ArrayBuffer(code.length * 4));
  code.forEach((word, i) => {
    view.setUint32(i * 4, word >>> 0, true);
  });
  return new Uint8Array(view.buffer);
}

export const aarch64Payload: ProbePayload = {
  arch: 'aarch64',
  image: aarch64Image,
  memoryMiB: 64,
  loadArgs: (file) => ['-kernel', file],
  stages: [{ marker: 'A', name: 'EL1 code with the MMU off' }],
  exitStatus: 0,
};
