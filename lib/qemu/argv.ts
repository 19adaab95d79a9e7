// The pure core of qlaunch: a checked VM spec plus host facts in, a qemu-system argv out. No I/O here.

import type { VmSpec } from '../machine/spec.js';
import { ARCH_TABLE } from './arch.js';

export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  /** CPU model override (e.g. the probe's "host,-arch-capabilities"); else the arch table's default. */
  cpu?: string | undefined;
}

export interface ArgvPlan {
  spec: VmSpec;
  /** Path or name of the qemu-system binary. */
  binary: string;
  accel: AccelChoice;
  qmpSocket: string;
  serialSocket: string;
  /** When set, QEMU itself also writes every console byte here (survives qlaunch not listening). */
  serialLog?: string | undefined;
}

export interface QemuCommand {
  file: string;
  args: string[];
}

/** QEMU's option syntax splits on commas; a literal comma in a value is written twice. */
export const escapeOptionValue = (value: string): string => value.replaceAll(',', ',,');

function acceleratorArgs(plan: ArgvPlan): string[] {
  const info = ARCH_TABLE[plan.spec.arch];
  if (plan.accel.accel === 'kvm') return ['-accel', 'kvm', '-cpu', plan.accel.cpu ?? info.kvmCpu];
  return ['-accel', ['tcg', ...info.tcgOptions].join(','), '-cpu', plan.accel.cpu ?? info.tcgCpu];
}

function machineArgs(plan: ArgvPlan): string[] {
  const info = ARCH_TABLE[plan.spec.arch];
  return ['-machine', [info.machine, ...info.machineOptions].join(',')];
}

function chardevArgs(plan: ArgvPlan): string[] {
  const qmp = `socket,id=qmp0,path=${escapeOptionValue(plan.qmpSocket)},server=on,wait=off`;
  const log = plan.serialLog ? `,logfile=${escapeOptionValue(plan.serialLog)},logappend=on` : '';
  const serial = `socket,id=serial0,path=${escapeOptionValue(plan.serialSocket)},server=on,wait=off${log}`;
  return [
    '-chardev',
    qmp,
    '-mon',
    'chardev=qmp0,mode=control',
    '-chardev',
    serial,
    '-serial',
    'chardev:serial0',
  ];
}

function diskArgs(spec: VmSpec): string[] {
  return spec.disks.flatMap((disk, i) => {
    const node = `disk${i}`;
    // JSON -blockdev needs no comma escaping, so any file name is safe.
    const blockdev = {
      'node-name': node,
      driver: disk.format,
      'read-only': disk.readOnly,
      discard: 'unmap',
      file: { driver: 'file', filename: disk.path, 'read-only': disk.readOnly },
    };
    const serial = disk.serial === undefined ? '' : `,serial=${escapeOptionValue(disk.serial)}`;
    return [
      '-blockdev',
      JSON.stringify(blockdev),
      '-device',
      `virtio-blk-pci,drive=${node},id=${node}-dev${serial}`,
    ];
  });
}

function networkArgs(spec: VmSpec): string[] {
  if (!spec.network.user) return [];
  const forwards = spec.network.forwards.map(
    (f) => `,hostfwd=${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`,
  );
  const mac = spec.network.mac === undefined ? '' : `,mac=${spec.network.mac}`;
  return [
    '-netdev',
    `user,id=net0${forwards.join('')}`,
    '-device',
    `virtio-net-pci,netdev=net0,id=net0-dev${mac}`,
  ];
}

function bootArgs(spec: VmSpec): string[] {
  const info = ARCH_TABLE[spec.arch];
  const bios = spec.bios ?? (spec.kernel ? info.directBootBios : undefined);
  const args = bios ? ['-bios', bios] : [];
  if (!spec.kernel) return args;
  args.push('-kernel', spec.kernel);
  if (spec.initrd) args.push('-initrd', spec.initrd);
  // The serial port is the only console qlaunch gives a guest, so point the kernel at it unless told otherwise.
  const append = /(^|\s)console=/.test(spec.append ?? '')
    ? (spec.append ?? '')
    : [`console=${info.console}`, spec.append].filter(Boolean).join(' ');
  args.push('-append', append);
  return args;
}

/** Build the full qemu-system command for a spec. QEMU starts paused (-S): the caller sends `cont` once QMP is up. */
export function buildQemuArgv(plan: ArgvPlan): QemuCommand {
  const { spec } = plan;
  const args = [
    ...(spec.name ? ['-name', `${escapeOptionValue(spec.name)},debug-threads=on`] : []),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-S',
    ...machineArgs(plan),
    ...acceleratorArgs(plan),
    '-smp',
    String(spec.cpus),
    '-m',
    `${spec.memoryMiB}M`,
    ...chardevArgs(plan),
    // Entropy from the host: cloud guests otherwise stall generating SSH host keys.
    '-object',
    'rng-random,id=rng0,filename=/dev/urandom',
    '-device',
    'virtio-rng-pci,rng=rng0',
    ...diskArgs(spec),
    ...networkArgs(spec),
    ...bootArgs(spec),
    ...(spec.noReboot ? ['-no-reboot'] : []),
  ];
  return { file: plan.binary, args };
}
