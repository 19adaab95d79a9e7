import t from 'tap';
import type { Arch } from '../../lib/arch/table.js';
import { archSupport } from '../../lib/host/support.js';
import type { QemuBinary } from '../../lib/host/types.js';

const qemu = (arch: Arch): QemuBinary => ({
  arch,
  path: `/usr/bin/qemu-system-${arch}`,
  version: '7.2.22',
  major: 7,
  minor: 2,
  micro: 22,
  banner: 'QEMU emulator version 7.2.22',
});
const uefi = { device: 'flash', executable: '/fw/CODE.fd', format: 'raw', features: [] } as const;

t.test('no binary: nothing runs, and the package to install is named', async (t) => {
  t.same(archSupport('aarch64', undefined, undefined), {
    runnable: false,
    diskImages: false,
    missing: [
      {
        what: 'qemu-system-aarch64 is not installed',
        neededFor: 'all guests',
        debianPackage: 'qemu-system-arm',
      },
    ],
  });
});

t.test('x86_64: SeaBIOS boots disks; missing OVMF only costs UEFI guests', async (t) => {
  t.same(archSupport('x86_64', qemu('x86_64'), { bios: '/b/bios-256k.bin', uefi }), {
    runnable: true,
    diskImages: true,
    missing: [],
  });
  t.match(archSupport('x86_64', qemu('x86_64'), { bios: '/b/bios-256k.bin' }), {
    runnable: true,
    diskImages: true,
    missing: [{ neededFor: 'UEFI guests', debianPackage: 'ovmf' }],
  });
  t.match(archSupport('x86_64', qemu('x86_64'), { uefi }), {
    runnable: true,
    diskImages: false,
    missing: [{ what: /bios-256k\.bin/, neededFor: 'disk images', debianPackage: 'seabios' }],
  });
});

t.test('aarch64: kernels need nothing, disk images need edk2', async (t) => {
  t.same(archSupport('aarch64', qemu('aarch64'), { uefi }), {
    runnable: true,
    diskImages: true,
    missing: [],
  });
  t.match(archSupport('aarch64', qemu('aarch64'), {}), {
    runnable: true,
    diskImages: false,
    missing: [{ neededFor: 'disk images', debianPackage: 'qemu-efi-aarch64' }],
  });
});

t.test('riscv64: OpenSBI for everything, U-Boot for disk images', async (t) => {
  const sbi = '/q/opensbi-riscv64-generic-fw_dynamic.bin';
  t.same(archSupport('riscv64', qemu('riscv64'), { bios: sbi, uefiLoader: '/u/uboot.elf' }), {
    runnable: true,
    diskImages: true,
    missing: [],
  });
  t.match(archSupport('riscv64', qemu('riscv64'), { bios: sbi }), {
    runnable: true,
    diskImages: false,
    missing: [
      { what: /uboot\.elf is not installed/, neededFor: 'disk images', debianPackage: 'u-boot-qemu' },
    ],
  });
  t.match(archSupport('riscv64', qemu('riscv64'), { uefiLoader: '/u/uboot.elf' }), {
    runnable: false,
    diskImages: false,
    missing: [{ neededFor: 'all guests', debianPackage: 'qemu-system-data' }],
  });
});
