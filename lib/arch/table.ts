// The one table of per-architecture facts: QEMU binary, machine, CPU models, console, firmware, packages.

import { ErrorCode, QlaunchError } from '../errors.js';

export const ARCHES = ['x86_64', 'aarch64', 'riscv64'] as const;
export type Arch = (typeof ARCHES)[number];

export interface ArchInfo {
  /** `qemu-system-<binary>` */
  binary: string;
  /** Debian package that ships the binary, for install hints. */
  debianPackage: string;
  /** Debian's name for the architecture (dpkg, apt, mmdebstrap). */
  debianArch: string;
  /** `-machine` type and the options we always want on it. */
  machine: string;
  /** What `machine` is an alias of, less its QEMU version (`pc-q35-` + `7.2`); undefined when it is unversioned. */
  versionedMachine?: string;
  machineOptions: readonly string[];
  /** CPU model under TCG: chosen for boot speed, not feature breadth. */
  tcgCpu: string;
  /** CPU model under KVM; the probe may refine it (e.g. drop a feature the host cannot set). */
  kvmCpu: string;
  /** `-accel tcg,...` options. */
  tcgOptions: readonly string[];
  /** Serial console device name the guest kernel sees (`console=`). */
  console: string;
  /** `-bios` value when booting a kernel directly, if the machine needs one. */
  directBootBios?: string;
  defaultMemoryMiB: number;
  /** Firmware for a disk boot without a kernel (a direct kernel boot needs none, beyond `directBootBios`). */
  diskFirmware: 'bios' | 'uefi';
  /** What `firmware: bios` is on this machine; `none` when it has no BIOS at all. */
  bios: BiosInfo;
  /** Where UEFI comes from, and the Debian package that ships it. */
  uefi: UefiInfo;
  /** Whether `system_powerdown` reaches the guest (ACPI power button, or gpio-keys on arm virt). */
  powerButton: boolean;
  /** QEMU tells of the guest's power-off with a SHUTDOWN event; false where the machine's power-off device just exits. */
  powerOffEvent: boolean;
  /** The graphics device of a guest with a screen (`display: vnc`): one firmware and Linux both drive. */
  displayDevice: string;
}

export type BiosInfo =
  /** QEMU loads it without being told (`file` from its data dirs). */
  | { kind: 'builtin'; file: string; debianPackage: string }
  /** `-bios VALUE`; `default` means QEMU's own `file` from its data dirs. */
  | { kind: 'option'; value: string; file: string; debianPackage: string }
  | { kind: 'none'; why: string };

export type UefiInfo =
  /** edk2 found through QEMU's firmware descriptors (pflash code + a per-VM copy of the variable store). */
  | { kind: 'edk2'; debianPackage: string }
  /** An S-mode boot loader that does EFI boot, given as `-kernel` on top of the machine's `-bios`. */
  | { kind: 'loader'; path: string; debianPackage: string; why: string };

export const ARCH_TABLE: Readonly<Record<Arch, ArchInfo>> = {
  x86_64: {
    binary: 'qemu-system-x86_64',
    debianPackage: 'qemu-system-x86',
    debianArch: 'amd64',
    machine: 'q35',
    versionedMachine: 'pc-q35-',
    machineOptions: [],
    tcgCpu: 'max',
    kvmCpu: 'host',
    tcgOptions: ['thread=multi', 'tb-size=256'],
    console: 'ttyS0',
    defaultMemoryMiB: 1024,
    diskFirmware: 'bios',
    // SeaBIOS is what q35 runs when given nothing: the fastest way into a BIOS-bootable image.
    bios: { kind: 'builtin', file: 'bios-256k.bin', debianPackage: 'seabios' },
    uefi: { kind: 'edk2', debianPackage: 'ovmf' },
    powerButton: true,
    powerOffEvent: true,
    // Also a VGA card: SeaBIOS and the kernel's text console show on it with no driver.
    displayDevice: 'virtio-vga',
  },
  aarch64: {
    binary: 'qemu-system-aarch64',
    debianPackage: 'qemu-system-arm',
    debianArch: 'arm64',
    machine: 'virt',
    versionedMachine: 'virt-',
    machineOptions: ['gic-version=max'],
    // `max` emulates pointer authentication with a slow algorithm: cortex-a57 boots ~4x faster.
    tcgCpu: 'cortex-a57',
    kvmCpu: 'host',
    tcgOptions: ['thread=multi', 'tb-size=256'],
    console: 'ttyAMA0',
    defaultMemoryMiB: 1024,
    // virt has no BIOS: a disk image carries an EFI boot loader, which needs edk2.
    diskFirmware: 'uefi',
    bios: { kind: 'none', why: "QEMU's arm virt machine has no BIOS" },
    uefi: { kind: 'edk2', debianPackage: 'qemu-efi-aarch64' },
    powerButton: true,
    powerOffEvent: true,
    displayDevice: 'virtio-gpu-pci',
  },
  riscv64: {
    binary: 'qemu-system-riscv64',
    debianPackage: 'qemu-system-misc',
    debianArch: 'riscv64',
    machine: 'virt',
    machineOptions: [],
    // QEMU 7.2 has no `-cpu max` for riscv; sscofpmf quiets the kernel's PMU warning.
    tcgCpu: 'rv64,sscofpmf=true',
    kvmCpu: 'host',
    tcgOptions: ['thread=multi', 'tb-size=256'],
    console: 'ttyS0',
    directBootBios: 'default',
    defaultMemoryMiB: 1024,
    diskFirmware: 'uefi',
    bios: {
      kind: 'option',
      value: 'default',
      file: 'opensbi-riscv64-generic-fw_dynamic.bin',
      debianPackage: 'qemu-system-data',
    },
    // Debian 12 has no riscv64 edk2; U-Boot in S-mode on OpenSBI does EFI (and extlinux) boot of distro images.
    uefi: {
      kind: 'loader',
      path: '/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf',
      debianPackage: 'u-boot-qemu',
      why: 'riscv64 UEFI is U-Boot booted as the kernel on OpenSBI',
    },
    // QEMU's riscv virt machine has no power button device: only the guest agent or the guest itself can power off.
    powerButton: false,
    // QEMU 7.2's virt test device (sifive_test) calls exit(0) at the power-off: status 0, no SHUTDOWN event.
    powerOffEvent: false,
    displayDevice: 'virtio-gpu-pci',
  },
};

export const isArch = (value: string): value is Arch => (ARCHES as readonly string[]).includes(value);

/** Parse a user-given architecture name, accepting the common aliases (amd64, arm64). */
export function parseArch(value: string): Arch {
  const aliases: Record<string, Arch> = { amd64: 'x86_64', x64: 'x86_64', arm64: 'aarch64' };
  const arch = aliases[value] ?? value;
  if (isArch(arch)) return arch;
  throw new QlaunchError(
    ErrorCode.SPEC_ARCH_UNSUPPORTED,
    `architecture '${value}' is not supported yet (qlaunch runs ${ARCHES.join(', ')} guests)`,
    { hint: `use one of: ${ARCHES.join(', ')}` },
  );
}

/** The architecture of the machine this process runs on, in QEMU's naming, or undefined if qlaunch has no table entry for it. */
export function hostArch(nodeArch: string = process.arch): Arch | undefined {
  const map: Record<string, Arch> = { x64: 'x86_64', arm64: 'aarch64', riscv64: 'riscv64' };
  return map[nodeArch];
}
