// Which architectures this host can run, from the probed binaries and firmware: pure.

import { ARCH_TABLE, type Arch } from '../arch/table.js';
import type { ArchFirmware, ArchSupport, MissingPiece, QemuBinary } from './types.js';

/** Runnable or not, for kernels and for disk images, and what to install for what is missing. */
export function archSupport(
  arch: Arch,
  qemu: QemuBinary | undefined,
  firmware: ArchFirmware | undefined,
): ArchSupport {
  const info = ARCH_TABLE[arch];
  if (!qemu) {
    const what = `${info.binary} is not installed`;
    return {
      runnable: false,
      diskImages: false,
      missing: [{ what, neededFor: 'all guests', debianPackage: info.debianPackage }],
    };
  }
  const missing: MissingPiece[] = [];
  const bios = info.bios;
  const biosFound = bios.kind === 'none' || firmware?.bios !== undefined;
  // riscv64 boots even a kernel through OpenSBI; x86_64 needs SeaBIOS only to boot disks.
  const kernelsNeedBios = info.directBootBios !== undefined;
  if (!biosFound) {
    missing.push({
      what: `${bios.file} (the BIOS) is not in QEMU's data directories`,
      neededFor: kernelsNeedBios ? 'all guests' : 'disk images',
      debianPackage: bios.debianPackage,
    });
  }
  const uefiFound =
    info.uefi.kind === 'edk2' ? firmware?.uefi !== undefined : firmware?.uefiLoader !== undefined;
  if (!uefiFound) {
    missing.push({
      what:
        info.uefi.kind === 'edk2'
          ? `no UEFI firmware descriptor for ${arch} (${info.machine}) with its files installed`
          : `${info.uefi.path} is not installed (${info.uefi.why})`,
      neededFor: info.diskFirmware === 'uefi' ? 'disk images' : 'UEFI guests',
      debianPackage: info.uefi.debianPackage,
    });
  }
  const runnable = biosFound || !kernelsNeedBios;
  return {
    runnable,
    diskImages: runnable && (info.diskFirmware === 'uefi' ? uefiFound : biosFound),
    missing,
  };
}
