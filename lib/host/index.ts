// Host probing in one call: QEMU binaries, qemu-img, the accelerator per arch, firmware, what each arch can run, KVM.

import { basename, dirname } from 'node:path';
import { ARCH_TABLE, ARCHES, type Arch, hostArch as detectHostArch } from '../arch/table.js';
import { probeAccel } from './accel.js';
import { type BinaryLookupOptions, findQemu, findQemuImg } from './binaries.js';
import type { FirmwareDescriptor } from './firmware.js';
import {
  defaultFirmwareDirs,
  findDataFile,
  findFirmware,
  loadFirmwareDescriptors,
  queryDataDirs,
} from './firmware-files.js';
import { checkKvmDevice } from './kvm-device.js';
import { listMachines, machineNames } from './machines.js';
import { runAsUser, runningAsRoot } from './run-as.js';
import { probeSandbox } from './sandbox.js';
import { archSupport } from './support.js';
import type {
  AccelName,
  AccelVerdict,
  ArchFirmware,
  HostFacts,
  MountTransports,
  QemuBinary,
} from './types.js';
import { defaultVhostUserDirs, findVirtiofsd } from './virtiofsd.js';

export type * from './types.js';

export interface ProbeHostOptions extends BinaryLookupOptions {
  /** Forces the host arch's accelerator (other arches are TCG anyway). */
  force?: AccelName | undefined;
  /** Probes KVM again instead of trusting the cached verdict. */
  refresh?: boolean | undefined;
  cacheDir?: string | undefined;
  /** Firmware descriptor directories, highest priority first; default per-user, /etc, /usr/share. */
  firmwareDirs?: readonly string[] | undefined;
  /** vhost-user descriptor dirs where virtiofsd is looked up (default: as QEMU's). */
  vhostUserDirs?: readonly string[] | undefined;
  kvmDevice?: string | undefined;
  deadlineMs?: number | undefined;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function archFirmware(
  qemu: QemuBinary,
  descriptors: readonly FirmwareDescriptor[],
): Promise<ArchFirmware> {
  // Resolving machine aliases costs a QEMU run: only when some descriptor is for this arch at all.
  const relevant = descriptors.some((d) => d.targets.some((target) => target.architecture === qemu.arch));
  const known = relevant ? await listMachines(qemu.path) : [];
  const machines = machineNames(ARCH_TABLE[qemu.arch].machine, known);
  const request = { arch: qemu.arch, machines };
  const { bios: biosInfo, uefi: uefiInfo } = ARCH_TABLE[qemu.arch];
  const [uefi, uefiSecureBoot, bios, uefiLoader] = await Promise.all([
    findFirmware(descriptors, request),
    findFirmware(descriptors, { ...request, secureBoot: true }),
    biosInfo.kind === 'none' ? undefined : findDataFile(biosInfo.file, await queryDataDirs(qemu.path)),
    uefiInfo.kind === 'loader' ? findDataFile(basename(uefiInfo.path), [dirname(uefiInfo.path)]) : undefined,
  ]);
  // Only what was found: `doctor --json` shows absent keys, not nulls.
  return {
    ...(uefi && { uefi }),
    ...(uefiSecureBoot && { uefiSecureBoot }),
    ...(bios && { bios }),
    ...(uefiLoader && { uefiLoader }),
  };
}

/** The transports for host directories: virtiofs needs a virtiofsd, and root for its sandbox. */
async function mountTransports(dirs: readonly string[]): Promise<MountTransports> {
  const virtiofsd = await findVirtiofsd(dirs);
  return { ...(virtiofsd && { virtiofsd }), virtiofs: virtiofsd !== undefined && runningAsRoot() };
}

/** Everything qlaunch needs to know about this host; only the host arch's KVM probe may run a (tiny) guest. */
export async function probeHost(options: ProbeHostOptions = {}): Promise<HostFacts> {
  const host = detectHostArch();
  const warnings: string[] = [];
  const lookup = { env: options.env };
  // A broken binary (or qemu-img) is a warning: the other arches still work.
  const [found, qemuImg, kvmDevice, loaded] = await Promise.all([
    Promise.all(
      ARCHES.map((arch) => findQemu(arch, lookup).catch((e: unknown) => void warnings.push(message(e)))),
    ),
    findQemuImg(lookup).catch((e: unknown) => void warnings.push(message(e))),
    checkKvmDevice(options.kvmDevice),
    loadFirmwareDescriptors(options.firmwareDirs ?? defaultFirmwareDirs(options.env)),
  ]);
  warnings.push(...loaded.warnings);
  const available = found.filter((q): q is QemuBinary => q !== undefined);

  const sandbox = await Promise.all(
    available.map(async (qemu) => {
      const verdict = await probeSandbox(qemu.path, { cacheDir: options.cacheDir, refresh: options.refresh });
      return [qemu.arch, verdict] as const;
    }),
  );
  const perArch = await Promise.all(
    available.map(async (qemu): Promise<[Arch, AccelVerdict, ArchFirmware]> => {
      const [accel, firmware] = await Promise.all([
        probeAccel(qemu.arch, {
          qemu,
          force: qemu.arch === host ? options.force : undefined,
          refresh: options.refresh,
          cacheDir: options.cacheDir,
          env: options.env,
          kvmDevice: options.kvmDevice,
          deadlineMs: options.deadlineMs,
        }),
        archFirmware(qemu, loaded.descriptors),
      ]);
      return [qemu.arch, accel, firmware];
    }),
  );
  return {
    hostArch: host,
    qemu: Object.fromEntries(available.map((q) => [q.arch, q])),
    ...(qemuImg && { qemuImg }),
    accel: Object.fromEntries(perArch.map(([arch, accel]) => [arch, accel])),
    firmware: Object.fromEntries(perArch.map(([arch, , firmware]) => [arch, firmware])),
    support: Object.fromEntries(
      ARCHES.map((arch) => [
        arch,
        archSupport(
          arch,
          available.find((q) => q.arch === arch),
          perArch.find(([a]) => a === arch)?.[2],
        ),
      ]),
    ) as HostFacts['support'],
    kvmDevice,
    sandbox: Object.fromEntries(sandbox),
    ...(runningAsRoot() && { qemuUser: await runAsUser() }),
    mounts: await mountTransports(options.vhostUserDirs ?? defaultVhostUserDirs(options.env)),
    warnings,
  };
}
