// The pure core of qlaunch: a checked VM spec plus host facts in, a qemu-system argv out. No I/O here.

import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { privateNetdev } from '../machine/private-net.js';
import type { VmSpec } from '../machine/spec.js';
import { type Confinement, confinementArgs } from './confinement.js';
import { escapeOptionValue, parseOptionString } from './options.js';
import { needsSharedMemory, type Share, shareArgs } from './shares.js';

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
  /** When set, a virtio-serial port `org.qemu.guest_agent.0` whose host end is this unix socket. */
  guestAgentSocket?: string | undefined;
  /** When set, a virtio-serial port `org.qlaunch.status` whose bytes QEMU writes to this file (a rootfs guest's exit status). */
  statusFile?: string | undefined;
  /** When set, QEMU writes (and locks) its pid here, and removes the file when it exits cleanly. */
  pidFile?: string | undefined;
  /** Required when the spec asks for UEFI or a firmware file; else the spec's `bios` and the arch table decide. */
  firmware?: ResolvedFirmware | undefined;
  /** Seccomp filter and unprivileged user; absent: QEMU runs as it is started, unfiltered. */
  confinement?: Confinement | undefined;
  /** Guest RAM on a file (warm images): `share: true` writes it back (warming), false maps it copy-on-write (clones). */
  memoryFile?: { path: string; share: boolean } | undefined;
  /** x86_64: a VM generation ID device with this GUID, so a restored clone's kernel reseeds its RNG. */
  vmgenid?: string | undefined;
  /** Start waiting for an incoming migration (`-incoming defer`; `migrate-incoming` over QMP). */
  incoming?: boolean | undefined;
  /** Host directories the guest sees, transports chosen (the spec's mounts, resolved on the host). */
  shares?: readonly Share[] | undefined;
  /** The VNC server's unix socket, for a spec with `display: vnc` (required then). */
  vncSocket?: string | undefined;
}

/** The id of the memory backend a warm guest's RAM lives on. */
export const RAM_BACKEND_ID = 'ram0';

/** A firmware file and its block format, as a firmware descriptor names them. */
export interface FirmwareImage {
  path: string;
  format: string;
}

interface FirmwareBase {
  /** One line for people on what was chosen and why; argv building ignores it. */
  description?: string | undefined;
}

/** `-bios VALUE` (a file, or `default` for QEMU's own); without a value, the machine's built-in BIOS (no option). */
export interface BiosFirmware extends FirmwareBase {
  kind: 'bios';
  path?: string | undefined;
}

/** edk2 on pflash: the code read-only, the VM's own copy of the variable store read-write. */
export interface PflashFirmware extends FirmwareBase {
  kind: 'pflash';
  executable: FirmwareImage;
  nvram?: FirmwareImage | undefined;
}

/** `-bios BIOS -kernel LOADER`: an S-mode boot loader (riscv64 U-Boot) that boots the disk. */
export interface LoaderFirmware extends FirmwareBase {
  kind: 'loader';
  bios: string;
  loader: string;
}

/** Firmware with its files in place (lib/vm/firmware.ts does the I/O). */
export type ResolvedFirmware = BiosFirmware | PflashFirmware | LoaderFirmware;

export interface QemuCommand {
  file: string;
  args: string[];
}

function acceleratorArgs(plan: ArgvPlan): string[] {
  const info = ARCH_TABLE[plan.spec.arch];
  if (plan.accel.accel === 'kvm') return ['-accel', 'kvm', '-cpu', plan.accel.cpu ?? info.kvmCpu];
  return ['-accel', ['tcg', ...info.tcgOptions].join(','), '-cpu', plan.accel.cpu ?? info.tcgCpu];
}

const PFLASH_NODES = { executable: 'fw-code', nvram: 'fw-vars' } as const;

function machineArgs(plan: ArgvPlan): string[] {
  const info = ARCH_TABLE[plan.spec.arch];
  const fw = plan.firmware;
  // Machine properties, as libvirt does it: the flash devices point at -blockdev nodes.
  const pflash =
    fw?.kind === 'pflash'
      ? [`pflash0=${PFLASH_NODES.executable}`, ...(fw.nvram ? [`pflash1=${PFLASH_NODES.nvram}`] : [])]
      : [];
  const ram = plan.memoryFile || needsSharedMemory(plan.shares) ? [`memory-backend=${RAM_BACKEND_ID}`] : [];
  // A pinned instance or warm image names its versioned type; the options fit every version of the arch's machine.
  const type = plan.spec.machineType ?? info.machine;
  return ['-machine', [type, ...info.machineOptions, ...pflash, ...ram].join(',')];
}

/** Guest RAM on shared anonymous memory, which virtiofsd maps; host directories as devices. */
function shareDeviceArgs(plan: ArgvPlan): string[] {
  if (!plan.shares?.length) return [];
  if (plan.memoryFile && needsSharedMemory(plan.shares)) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, 'a warm guest cannot have virtiofs mounts', {
      hint: 'boot it without mounts, or use type=9p',
    });
  }
  const memory =
    needsSharedMemory(plan.shares) && !plan.memoryFile
      ? ['-object', `memory-backend-memfd,id=${RAM_BACKEND_ID},size=${plan.spec.memoryMiB}M,share=on`]
      : [];
  return [...memory, ...shareArgs(plan.shares)];
}

/** Guest RAM on a file, and the generation ID device: what warm images add to a guest. */
function warmArgs(plan: ArgvPlan): string[] {
  const args: string[] = [];
  if (plan.memoryFile) {
    const { path, share } = plan.memoryFile;
    const backend = [
      'memory-backend-file',
      `id=${RAM_BACKEND_ID}`,
      `size=${plan.spec.memoryMiB}M`,
      `mem-path=${escapeOptionValue(path)}`,
      `share=${share ? 'on' : 'off'}`,
    ];
    args.push('-object', backend.join(','));
  }
  if (plan.vmgenid) args.push('-device', `vmgenid,id=vmgenid0,guid=${plan.vmgenid}`);
  return args;
}

/** The chardev id of the QMP socket: how `qmpSocketOf` finds it again in a running QEMU's argv. */
const QMP_CHARDEV = 'qmp0';

/** The QMP socket path in a qemu-system argv as `buildQemuArgv` writes it, read back the way QEMU reads it. */
export function qmpSocketOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] !== '-chardev') continue;
    const options = parseOptionString(args[i + 1] ?? '', 'backend');
    if (options.get('id') === QMP_CHARDEV) return options.get('path');
  }
  return undefined;
}

function chardevArgs(plan: ArgvPlan): string[] {
  const qmp = `socket,id=${QMP_CHARDEV},path=${escapeOptionValue(plan.qmpSocket)},server=on,wait=off`;
  const log = plan.serialLog ? `,logfile=${escapeOptionValue(plan.serialLog)},logappend=on` : '';
  const serial = `socket,id=serial0,path=${escapeOptionValue(plan.serialSocket)},server=on,wait=off${log}`;
  return [
    '-chardev',
    qmp,
    '-mon',
    `chardev=${QMP_CHARDEV},mode=control`,
    '-chardev',
    serial,
    '-serial',
    'chardev:serial0',
    ...virtioPortArgs(plan),
  ];
}

/** The guest agent's port and a rootfs guest's status port, on one virtio-serial bus. */
function virtioPortArgs(plan: ArgvPlan): string[] {
  if (!plan.guestAgentSocket && !plan.statusFile) return [];
  return [
    '-device',
    'virtio-serial-pci,id=vser0',
    ...(plan.guestAgentSocket
      ? [
          '-chardev',
          `socket,id=qga0,path=${escapeOptionValue(plan.guestAgentSocket)},server=on,wait=off`,
          // The name is what the guest's qemu-guest-agent unit waits for (/dev/virtio-ports/org.qemu.guest_agent.0).
          '-device',
          'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0',
        ]
      : []),
    ...(plan.statusFile
      ? [
          '-chardev',
          `file,id=status0,path=${escapeOptionValue(plan.statusFile)}`,
          '-device',
          'virtserialport,bus=vser0.0,chardev=status0,name=org.qlaunch.status',
        ]
      : []),
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
  // The user NIC first, so the guest sees it as eth0 and the private networks as eth1, eth2, … in spec order.
  return [...userNetworkArgs(spec), ...privateNetworkArgs(spec), ...bridgeNetworkArgs(spec)];
}

function userNetworkArgs(spec: VmSpec): string[] {
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

function privateNetworkArgs(spec: VmSpec): string[] {
  return spec.network.private.flatMap((net, i) => [
    '-netdev',
    net.tap === undefined
      ? privateNetdev(`priv${i}`, net.name)
      : `tap,id=priv${i},ifname=${net.tap},script=no,downscript=no`,
    '-device',
    `virtio-net-pci,netdev=priv${i},id=priv${i}-dev,mac=${net.mac}`,
  ]);
}

/** NICs on host bridges, through qemu-bridge-helper (which checks the bridge against its ACL). */
function bridgeNetworkArgs(spec: VmSpec): string[] {
  return (spec.network.bridges ?? []).flatMap((nic, i) => [
    '-netdev',
    `bridge,id=br${i},br=${nic.bridge}${nic.helper === undefined ? '' : `,helper=${nic.helper}`}`,
    '-device',
    `virtio-net-pci,netdev=br${i},id=br${i}-dev,mac=${nic.mac}`,
  ]);
}

function pflashNode(node: string, image: FirmwareImage, readOnly: boolean): string[] {
  const file = { driver: 'file', filename: image.path, 'read-only': readOnly };
  return [
    '-blockdev',
    JSON.stringify({ 'node-name': node, driver: image.format, 'read-only': readOnly, file }),
  ];
}

/** The firmware part of the argv: `-bios`, pflash nodes, or a boot loader as the kernel. */
function firmwareArgs(plan: ArgvPlan): string[] {
  const { spec } = plan;
  const asked = spec.firmware;
  const fw = plan.firmware;
  if (!fw && (asked === 'uefi' || typeof asked === 'object')) {
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `the spec asks for firmware ${asked === 'uefi' ? 'uefi' : asked.path} but none was resolved`,
      {
        hint: 'resolve it on the host first (resolveFirmware in lib/vm/firmware.ts) and pass it as plan.firmware',
      },
    );
  }
  if (fw?.kind === 'pflash') {
    return [
      ...pflashNode(PFLASH_NODES.executable, fw.executable, true),
      ...(fw.nvram ? pflashNode(PFLASH_NODES.nvram, fw.nvram, false) : []),
    ];
  }
  if (fw?.kind === 'loader') {
    if (spec.kernel) {
      throw new QlaunchError(
        ErrorCode.SPEC_INVALID,
        `boot loader ${fw.loader} and kernel ${spec.kernel} both want -kernel`,
        {
          hint: 'drop the kernel to boot the disk through the loader, or drop the firmware to boot the kernel',
        },
      );
    }
    return ['-bios', fw.bios, '-kernel', fw.loader];
  }
  const info = ARCH_TABLE[spec.arch];
  const table = asked === 'bios' && info.bios.kind === 'option' ? info.bios.value : undefined;
  const bios = fw ? fw.path : (spec.bios ?? table ?? (spec.kernel ? info.directBootBios : undefined));
  return bios ? ['-bios', bios] : [];
}

function bootArgs(plan: ArgvPlan): string[] {
  const { spec } = plan;
  const info = ARCH_TABLE[spec.arch];
  const args = firmwareArgs(plan);
  if (!spec.kernel) return args;
  args.push('-kernel', spec.kernel);
  if (spec.initrd) args.push('-initrd', spec.initrd);
  // The serial port is the only console qlaunch gives a guest, so point the kernel at it unless told otherwise.
  // With a screen the kernel writes there too; the last console= stays /dev/console, the serial port.
  const consoles =
    spec.display === 'vnc' ? ['console=tty0', `console=${info.console}`] : [`console=${info.console}`];
  const append = /(^|\s)console=/.test(spec.append ?? '')
    ? (spec.append ?? '')
    : [...consoles, spec.append].filter(Boolean).join(' ');
  args.push('-append', append);
  return args;
}

/** A screen: the arch's graphics device, shown by a VNC server on a unix socket only (never a TCP port). */
function displayArgs(plan: ArgvPlan): string[] {
  if (plan.spec.display !== 'vnc') return [];
  if (plan.vncSocket === undefined) throw new Error('a spec with a display needs plan.vncSocket');
  return [
    '-device',
    ARCH_TABLE[plan.spec.arch].displayDevice,
    '-vnc',
    `unix:${escapeOptionValue(plan.vncSocket)}`,
  ];
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
    // Guest RAM stays out of QEMU's core dumps (it holds the guest's secrets); QEMU merges repeated -machine.
    '-machine',
    'dump-guest-core=off',
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
    ...shareDeviceArgs(plan),
    ...displayArgs(plan),
    ...bootArgs(plan),
    ...(spec.noReboot ? ['-no-reboot'] : []),
    ...warmArgs(plan),
    ...(plan.pidFile ? ['-pidfile', plan.pidFile] : []),
    ...confinementArgs(plan.confinement, plan.pidFile, (plan.spec.network.bridges ?? []).length > 0),
    ...(plan.incoming ? ['-incoming', 'defer'] : []),
  ];
  return { file: plan.binary, args };
}
