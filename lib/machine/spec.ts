// What a VM is, as the rest of qlaunch sees it: the input a user gives (loose) and the checked spec (strict).

import { ErrorCode, QlaunchError } from '../errors.js';
import { ARCH_TABLE, type Arch, hostArch, parseArch } from '../qemu/arch.js';
import { parseSizeMiB } from './size.js';

export type DiskFormat = 'raw' | 'qcow2';

export interface DiskSpec {
  path: string;
  format: DiskFormat;
  readOnly: boolean;
  /** Serial number the guest sees (/dev/disk/by-id/virtio-SERIAL). */
  serial?: string | undefined;
}

export interface PortForward {
  protocol: 'tcp' | 'udp';
  /** Always loopback unless the caller explicitly asks otherwise. */
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

export interface NetworkSpec {
  /** QEMU user-mode networking (slirp): outbound NAT plus host forwards. */
  user: boolean;
  forwards: PortForward[];
  /** Locally administered MAC for the first NIC. */
  mac?: string | undefined;
}

export type AccelRequest = 'auto' | 'kvm' | 'tcg';

export interface VmSpec {
  name?: string | undefined;
  arch: Arch;
  cpus: number;
  memoryMiB: number;
  accel: AccelRequest;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  /** `-bios` path or "default"; undefined lets the arch table decide. */
  bios?: string | undefined;
  disks: DiskSpec[];
  network: NetworkSpec;
  /** Exit QEMU when the guest reboots instead of rebooting it (throwaway runs). */
  noReboot: boolean;
}

/** The loose form users and the CLI hand in; `normalizeSpec` turns it into a `VmSpec` or says what is wrong. */
export interface VmSpecInput {
  name?: string | undefined;
  arch?: string | undefined;
  cpus?: number | string | undefined;
  memory?: string | number | undefined;
  accel?: string | undefined;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  bios?: string | undefined;
  disks?: (string | (Partial<DiskSpec> & { path: string }))[] | undefined;
  network?: Partial<NetworkSpec> | false | undefined;
  forwards?: (string | PortForward)[] | undefined;
  noReboot?: boolean | undefined;
}

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

function parseCpus(value: number | string | undefined): number {
  if (value === undefined) return 1;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 255) {
    throw invalid(`cpus '${value}' is not a whole number from 1 to 255`, 'use e.g. --cpus 2');
  }
  return n;
}

function parseAccel(value: string | undefined): AccelRequest {
  if (value === undefined || value === 'auto' || value === 'kvm' || value === 'tcg') return value ?? 'auto';
  throw invalid(`accelerator '${value}' is not known`, 'use kvm, tcg or auto');
}

function diskFormatOf(path: string): DiskFormat {
  return /\.qcow2$/i.test(path) ? 'qcow2' : 'raw';
}

function parseDisk(disk: string | (Partial<DiskSpec> & { path: string })): DiskSpec {
  const d = typeof disk === 'string' ? { path: disk } : disk;
  if (!d.path) throw invalid('a disk has an empty path', 'give the disk image file, e.g. --disk data.img');
  const format = d.format ?? diskFormatOf(d.path);
  if (format !== 'raw' && format !== 'qcow2') {
    throw invalid(`disk ${d.path}: format '${String(format)}' is not supported`, 'use raw or qcow2');
  }
  return { path: d.path, format, readOnly: d.readOnly ?? false, serial: d.serial };
}

/** Parse "HOST:GUEST", "ADDR:HOST:GUEST" or with a "/udp" suffix into a forward bound to 127.0.0.1 by default. */
export function parsePortForward(text: string): PortForward {
  const match = /^(?:([0-9.]+):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(text.trim());
  const hostPort = Number(match?.[2]);
  const guestPort = Number(match?.[3]);
  const ok = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!match || !ok(guestPort) || !(ok(hostPort) || hostPort === 0)) {
    throw invalid(
      `port forward '${text}' is not HOST:GUEST`,
      'use e.g. --port 2222:22 (host 127.0.0.1:2222 → guest 22)',
    );
  }
  return {
    protocol: (match[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
    hostAddress: match[1] ?? '127.0.0.1',
    hostPort,
    guestPort,
  };
}

/** Check and fill in a spec; pure (no file checks: those belong to whoever touches the files). */
export function normalizeSpec(input: VmSpecInput): VmSpec {
  const arch = input.arch === undefined ? (hostArch() ?? 'x86_64') : parseArch(input.arch);
  if (input.initrd !== undefined && input.kernel === undefined) {
    throw invalid('an initrd was given without a kernel', 'add --kernel FILE, or drop --initrd');
  }
  if (input.append !== undefined && input.kernel === undefined) {
    throw invalid('a kernel command line was given without a kernel', 'add --kernel FILE, or drop --append');
  }
  const disks = (input.disks ?? []).map(parseDisk);
  if (input.kernel === undefined && disks.length === 0) {
    throw invalid(
      'nothing to boot: no kernel and no disk',
      'give --kernel FILE (direct boot) or --disk IMAGE',
    );
  }
  const network = input.network === false ? { user: false, forwards: [] } : input.network;
  const forwards = [...(network?.forwards ?? []), ...(input.forwards ?? [])].map((f) =>
    typeof f === 'string' ? parsePortForward(f) : f,
  );
  const user = network?.user ?? true;
  if (!user && forwards.length > 0) {
    throw invalid('port forwards need user networking', 'drop the forwards or enable user networking');
  }
  return {
    name: input.name,
    arch,
    cpus: parseCpus(input.cpus),
    memoryMiB:
      input.memory === undefined ? ARCH_TABLE[arch].defaultMemoryMiB : parseSizeMiB(input.memory, 'memory'),
    accel: parseAccel(input.accel),
    kernel: input.kernel,
    initrd: input.initrd,
    append: input.append,
    bios: input.bios,
    disks,
    network: { user, forwards, mac: network?.mac },
    noReboot: input.noReboot ?? false,
  };
}
