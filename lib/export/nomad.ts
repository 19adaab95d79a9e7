// A resolved machine → a Nomad job for the qemu task driver, in the JSON `nomad job run -json` reads: pure.

import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { PortForward } from '../machine/spec.js';
import {
  commonDropped,
  containerDiskRef,
  droppedMounts,
  type ExportInput,
  imageSource,
  type NotCarried,
} from './input.js';

export interface NomadExport {
  /** `{ Job: … }`, the API form of a job specification. */
  job: { Job: Record<string, unknown> };
  dropped: NotCarried[];
}

/** Where the task's artifacts land, relative to the task directory (image_path is relative to it too). */
export const NOMAD_DISK = 'local/disk.img';
export const NOMAD_SEED = 'local/seed.iso';

// A Nomad port label: letters, digits and underscores; the host port in it keeps two forwards to one guest port apart.
const portLabel = (f: PortForward): string =>
  f.hostPort === 0 ? `${f.protocol}_${f.guestPort}` : `${f.protocol}_${f.hostPort}_${f.guestPort}`;

/** The Nomad job that boots what `qlaunch run` would: same arch, machine, vCPUs, memory, disk, seed and forwards. */
export function toNomad(input: ExportInput): NomadExport {
  const { machine } = input;
  const dropped = commonDropped(input);
  dropped.push(
    ...droppedMounts(
      input,
      "the qemu driver gives the guest no host directory, and a Nomad client's directories are its own: copy the content in through an artifact, or use a volume the guest reaches over the network",
    ),
  );
  const source = imageSource(input);
  if (!source || containerDiskRef(source.url) !== undefined) {
    throw new QlaunchError(
      ErrorCode.EXPORT_UNSUPPORTED,
      `machine ${machine.name}'s image has no http(s) URL a Nomad client can download`,
      { hint: 'give --image-url https://… (the qcow2 or raw image the task downloads as an artifact)' },
    );
  }
  const seedUrl = input.seedUrl;
  if (seedUrl === undefined) {
    throw new QlaunchError(
      ErrorCode.EXPORT_UNSUPPORTED,
      'a Nomad job needs the URL its clients fetch the seed image from',
      {
        hint: 'give --seed-url https://…/seed.iso and serve the seed image written with --seed-out FILE there',
      },
    );
  }
  if (machine.diskSizeMiB !== undefined) {
    dropped.push({
      what: `disk.size ${machine.diskSizeMiB} MiB`,
      reason: 'the qemu driver boots the downloaded image at its own size (it has no overlay or resize)',
    });
  }
  const firmware =
    machine.firmware ?? (machine.kernel === undefined ? ARCH_TABLE[machine.arch].diskFirmware : undefined);
  if (firmware !== undefined && firmware !== 'bios') {
    dropped.push({
      what: typeof firmware === 'string' ? 'firmware uefi' : `firmware file ${firmware.path}`,
      reason:
        "the qemu driver has no firmware option and firmware paths differ per client: add the client's edk2 as -drive if=pflash,… to args",
    });
  }
  for (const f of machine.ports) {
    if (f.hostAddress.startsWith('127.')) {
      dropped.push({
        what: `port ${f.hostPort}:${f.guestPort} bound to ${f.hostAddress}`,
        reason: "the qemu driver's forwards listen on every address of the client, not on loopback",
      });
    }
    if (f.protocol === 'udp') {
      dropped.push({
        what: `port ${f.hostPort}:${f.guestPort}/udp as UDP only`,
        reason: 'the qemu driver forwards each mapped port for both TCP and UDP',
      });
    }
  }
  const reserved = machine.ports.filter((f) => f.hostPort !== 0);
  const dynamic = machine.ports.filter((f) => f.hostPort === 0);
  const network = {
    ...(reserved.length > 0 && {
      ReservedPorts: reserved.map((f) => ({ Label: portLabel(f), Value: f.hostPort })),
    }),
    ...(dynamic.length > 0 && { DynamicPorts: dynamic.map((f) => ({ Label: portLabel(f) })) }),
  };
  const info = ARCH_TABLE[machine.arch];
  const config: Record<string, unknown> = {
    image_path: NOMAD_DISK,
    emulator: machine.arch,
    // The driver's own defaults are `pc` and IDE: qlaunch boots q35 (or virt) with virtio disks.
    machine_type: machine.machineType ?? info.machine,
    drive_interface: 'virtio',
    accelerator: 'kvm',
    graceful_shutdown: true,
    guest_agent: true,
    args: [
      // The driver adds -smp only under KVM with reserved cores: say it for every accelerator.
      '-smp',
      String(machine.cpus),
      // The CPU model qlaunch gives KVM guests; the driver names none (aarch64's default cannot run under KVM).
      '-cpu',
      info.kvmCpu,
      // QEMU merges a second -machine into the driver's: qlaunch's options for this machine (gic-version=max).
      ...(info.machineOptions.length > 0 ? ['-machine', info.machineOptions.join(',')] : []),
      '-drive',
      `file=${NOMAD_SEED},if=virtio,format=raw,readonly=on`,
    ],
    ...(machine.ports.length > 0 && {
      port_map: [Object.fromEntries(machine.ports.map((f) => [portLabel(f), f.guestPort]))],
    }),
  };
  const artifact = (url: string, dest: string, checksum?: string) => ({
    GetterSource: url,
    GetterMode: 'file',
    RelativeDest: dest,
    ...(checksum !== undefined && { GetterOptions: { checksum } }),
  });
  const task = {
    Name: 'vm',
    Driver: 'qemu',
    Config: config,
    Artifacts: [artifact(source.url, NOMAD_DISK, source.checksum), artifact(seedUrl, NOMAD_SEED)],
    Resources: { Cores: machine.cpus, MemoryMB: machine.memoryMiB },
  };
  const job = {
    ID: machine.name,
    Name: machine.name,
    Type: 'service',
    Datacenters: ['*'],
    Meta: {
      'qlaunch-export': `accelerator kvm: on clients without /dev/kvm set accelerator = "tcg" and -cpu ${info.tcgCpu}`,
    },
    TaskGroups: [
      {
        Name: machine.name,
        Count: 1,
        ...(machine.ports.length > 0 && { Networks: [network] }),
        Tasks: [task],
      },
    ],
  };
  return { job: { Job: job }, dropped };
}
