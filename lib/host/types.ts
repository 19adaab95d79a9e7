// What host probing finds out: the facts argv building and `doctor` rely on.

import type { Arch } from '../arch/table.js';

/** A QEMU tool's version, parsed from the first line it prints for `-version` / `--version`. */
export interface QemuVersion {
  /** e.g. "7.2.22" */
  version: string;
  major: number;
  minor: number;
  micro: number;
  /** The full first line, e.g. "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" */
  banner: string;
}

export interface QemuBinary extends QemuVersion {
  arch: Arch;
  path: string;
}

export interface QemuImgBinary extends QemuVersion {
  path: string;
}

export type AccelName = 'kvm' | 'tcg';

export interface AccelVerdict {
  accel: AccelName;
  /** CPU model to use with this accelerator, e.g. "host" or "host,-arch-capabilities"; undefined means the arch table's TCG default. */
  cpu?: string | undefined;
  /** One line on why: "guest code ran under KVM in 120 ms", "/dev/kvm missing", "KVM guest did not finish in 1000 ms (paravirtual KVM?)" */
  reason: string;
  /** True when this verdict came from the cache rather than a fresh probe. */
  cached: boolean;
  /** True when the user forced it (--accel) instead of the probe deciding. */
  forced?: boolean;
}

export interface FirmwareChoice {
  /** Descriptor file the choice came from, when any. */
  descriptor?: string | undefined;
  /** How QEMU loads it: `flash` → pflash drives (executable + per-instance NVRAM), `memory` → `-bios`. */
  device: 'flash' | 'memory';
  executable: string;
  /** NVRAM template to copy per instance, for pflash UEFI. */
  nvramTemplate?: string | undefined;
  /** Raw or qcow2, as the descriptor says. */
  format: string;
  /** Format of the NVRAM template, when there is one. */
  nvramTemplateFormat?: string | undefined;
  features: readonly string[];
}

/** The firmware qlaunch can use for one architecture. */
export interface ArchFirmware {
  /** UEFI without secure boot: what a plain `firmware: uefi` VM gets. */
  uefi?: FirmwareChoice | undefined;
  /** UEFI with secure boot, when installed. */
  uefiSecureBoot?: FirmwareChoice | undefined;
  /** The BIOS file QEMU loads for this arch (x86_64 SeaBIOS, riscv64 OpenSBI for `-bios default`), if found. */
  bios?: string | undefined;
  /** riscv64: the U-Boot S-mode loader that gives UEFI on OpenSBI, if installed. */
  uefiLoader?: string | undefined;
}

/** Something a kind of boot needs that is not installed, with the Debian package that ships it. */
export interface MissingPiece {
  what: string;
  /** Which guests cannot boot without it. */
  neededFor: 'all guests' | 'disk images' | 'UEFI guests';
  debianPackage: string;
}

/** What this host can run for one architecture. */
export interface ArchSupport {
  /** Guests boot from a kernel: the qemu-system binary answers, with any firmware every boot needs (riscv64: OpenSBI). */
  runnable: boolean;
  /** Disk images boot too: the firmware the arch boots disks with (the arch table's `diskFirmware`) is installed. */
  diskImages: boolean;
  /** Each missing piece, naming its package; empty when nothing is. */
  missing: MissingPiece[];
}

export interface KvmDevice {
  path: string;
  exists: boolean;
  /** Opens read-write for this user (what QEMU needs). */
  accessible: boolean;
  /** Why it is not usable, one line; absent when accessible. */
  problem?: string | undefined;
}

/** Everything `probeHost()` finds; plain data, serialisable to JSON for `doctor --json`. */
export interface HostFacts {
  /** undefined when qlaunch has no arch table entry for this machine. */
  hostArch: Arch | undefined;
  qemu: Partial<Record<Arch, QemuBinary>>;
  /** Absent when qemu-img is not installed. */
  qemuImg?: QemuImgBinary | undefined;
  /** Only for the arches whose qemu-system binary was found. */
  accel: Partial<Record<Arch, AccelVerdict>>;
  firmware: Partial<Record<Arch, ArchFirmware>>;
  /** Every arch qlaunch knows, installed or not: can it run here, and if not, what to install. */
  support: Record<Arch, ArchSupport>;
  kvmDevice: KvmDevice;
  /** Per arch whose QEMU was found: does that build have seccomp (`-sandbox`), which every guest's QEMU runs under. */
  sandbox?: Partial<Record<Arch, { seccomp: boolean; reason: string; cached: boolean }>> | undefined;
  /** The user QEMU drops to when qlaunch runs as root (absent when not root, or when the host has none). */
  qemuUser?: string | undefined;
  /** How host directories reach guests: 9p always (QEMU serves it); virtiofs where virtiofsd is found and can run. */
  mounts?: MountTransports | undefined;
  /** Things that did not stop the probe but deserve a look (broken descriptor, broken binary), one line each. */
  warnings: string[];
}

export interface MountTransports {
  /** virtiofsd's path, found through QEMU's vhost-user descriptors. */
  virtiofsd?: string | undefined;
  /** virtiofsd sandboxes itself with namespaces: it runs when qlaunch runs as root. */
  virtiofs: boolean;
}
