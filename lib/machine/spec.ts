// What a VM is, as the rest of qlaunch sees it: the input a user gives (loose) and the checked spec (strict).

import { isIPv4 } from 'node:net';
import { ARCH_TABLE, type Arch, hostArch, parseArch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type MountInput, type MountSpec, normalizeMounts } from './mounts.js';
import { isUnicastMac, PRIVATE_NET_NAME, privateNetMac } from './private-net.js';
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
  /** Private L2 networks between guests on this host, one NIC each after the user NIC (eth1, eth2, …). */
  private: PrivateNetwork[];
  /** Existing host bridges (a LAN), joined through qemu-bridge-helper, one NIC each after the private ones. */
  bridges?: BridgeNic[] | undefined;
}

export interface BridgeNic {
  /** The host bridge's interface name. */
  bridge: string;
  /** This guest's MAC on it, derived from the VM name and the bridge. */
  mac: string;
  /** qemu-bridge-helper's path, once found on the host; else QEMU's built-in default. */
  helper?: string | undefined;
}

export interface PrivateNetwork {
  /** Guests on the same name share one segment (`PRIVATE_NET_NAME`). */
  name: string;
  /** This guest's locally administered unicast MAC on it: unique per guest, stable across boots. */
  mac: string;
  /** On a host network: the tap (made by qlaunch, on the network's bridge) the NIC uses instead of multicast. */
  tap?: string | undefined;
}

export type AccelRequest = 'auto' | 'kvm' | 'tcg';

/** What a VM boots with: the machine's BIOS, UEFI (found through QEMU's firmware descriptors), or a firmware file. */
export type Firmware = 'bios' | 'uefi' | { path: string };

export interface VmSpec {
  name?: string | undefined;
  arch: Arch;
  cpus: number;
  memoryMiB: number;
  accel: AccelRequest;
  /** QEMU's `-machine` type: the arch's alias (`q35`) or a versioned one it stands for (`pc-q35-7.2`); undefined: the alias. */
  machineType?: string | undefined;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  /** `-bios` path or "default", passed as is; undefined lets the arch table decide. */
  bios?: string | undefined;
  /** Firmware asked for; undefined: none for a direct kernel boot, the arch's default for a disk (`bootFirmware`). */
  firmware?: Firmware | undefined;
  disks: DiskSpec[];
  network: NetworkSpec;
  /** Exit QEMU when the guest reboots instead of rebooting it (throwaway runs). */
  noReboot: boolean;
  /** Host directories the guest sees, tagged m0, m1, … in this order; absent when there are none. */
  mounts?: MountSpec[] | undefined;
  /** `vnc`: a graphics device and a VNC server on a unix socket; absent: no screen (the serial console only). */
  display?: Display | undefined;
}

/** A guest's screen: none, or a graphics device shown over VNC on a unix socket (never TCP). */
export const DISPLAYS = ['none', 'vnc'] as const;
export type Display = (typeof DISPLAYS)[number];

/** The loose form users and the CLI hand in; `normalizeSpec` turns it into a `VmSpec` or says what is wrong. */
export interface VmSpecInput {
  name?: string | undefined;
  arch?: string | undefined;
  cpus?: number | string | undefined;
  memory?: string | number | undefined;
  accel?: string | undefined;
  /** `q35`/`virt` or a versioned type of the same machine (`pc-q35-7.2`, `virt-7.1`); default: the arch's alias. */
  machineType?: string | undefined;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  bios?: string | undefined;
  /** "bios", "uefi", or a firmware file's path. */
  firmware?: string | Firmware | undefined;
  disks?: (string | (Partial<DiskSpec> & { path: string }))[] | undefined;
  network?: Partial<NetworkSpec> | false | undefined;
  /** `--network` values: "user", "none", "private:NET" (MAC derived from `name` and NET). */
  networks?: readonly string[] | undefined;
  forwards?: (string | PortForward)[] | undefined;
  noReboot?: boolean | undefined;
  /** Host directories for the guest (`HOST[:GUEST][:OPTIONS]` or objects); relative host paths are from the cwd. */
  mounts?: readonly MountInput[] | undefined;
  /** `none` (default) or `vnc`. */
  display?: string | undefined;
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

export function parseAccel(value: string | undefined): AccelRequest {
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

const FORWARD_FORMS =
  'use HOST:GUEST (e.g. --port 2222:22: 127.0.0.1:2222 → guest 22), or ADDR:HOST:GUEST to listen on another ' +
  'host address (e.g. 0.0.0.0:8080:80, reachable from other machines), each with an optional /udp';

/** Parse "HOST:GUEST", "ADDR:HOST:GUEST" or with a "/udp" suffix into a forward bound to 127.0.0.1 by default. */
export function parsePortForward(text: string): PortForward {
  const match = /^(?:([^:]*):)?(\d+):(\d+)(?:\/(tcp|udp))?$/.exec(text.trim());
  const hostPort = Number(match?.[2]);
  const guestPort = Number(match?.[3]);
  const ok = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!match || !ok(guestPort) || !(ok(hostPort) || hostPort === 0)) {
    throw invalid(`port forward '${text}' is not HOST:GUEST or ADDR:HOST:GUEST`, FORWARD_FORMS);
  }
  // Only a dotted IPv4 address: "2222:22:33" once stored "2222" as the address.
  if (match[1] !== undefined && !isIPv4(match[1])) {
    throw invalid(`port forward '${text}': '${match[1]}' is not an IPv4 host address`, FORWARD_FORMS);
  }
  return {
    protocol: (match[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
    hostAddress: match[1] ?? '127.0.0.1',
    hostPort,
    guestPort,
  };
}

/** Forwards that listen beyond loopback, so other machines can reach the guest: worth a warning. */
export const exposedForwards = (forwards: readonly PortForward[]): PortForward[] =>
  forwards.filter((f) => !f.hostAddress.startsWith('127.'));

/** The warning for a forward that other machines can reach. */
export const exposedWarning = (f: PortForward): string =>
  `guest port ${f.guestPort}${f.protocol === 'udp' ? '/udp' : ''} is reachable from other machines on ` +
  `${f.hostAddress}:${f.hostPort}; leave the address out to keep it on 127.0.0.1`;

export type NetworkOption =
  | { kind: 'user' }
  | { kind: 'none' }
  | { kind: 'private'; name: string }
  | { kind: 'bridge'; name: string };

/** A Linux interface name (IFNAMSIZ): it goes into QEMU option strings, so no commas, '=' or spaces. */
export const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

/** Parse one `--network` value: "user" (the default NIC), "none" (no user NIC), "private:NET" or "bridge:BR". */
export function parseNetworkOption(text: string): NetworkOption {
  const value = text.trim();
  if (value === 'user' || value === 'none') return { kind: value };
  const bridge = /^bridge:(.*)$/.exec(value)?.[1];
  if (bridge !== undefined) {
    if (!IFNAME.test(bridge)) {
      throw invalid(
        `bridge '${bridge}' is not an interface name`,
        'name a host bridge of 1 to 15 letters, digits, dots, dashes and underscores (e.g. bridge:br0)',
      );
    }
    return { kind: 'bridge', name: bridge };
  }
  const name = /^private:(.*)$/.exec(value)?.[1];
  if (name === undefined) {
    throw invalid(
      `network '${text}' is not known`,
      'use user, none, private:NAME or bridge:BR (e.g. --network private:lab)',
    );
  }
  checkPrivateNetName(name);
  return { kind: 'private', name };
}

function checkPrivateNetName(name: string): void {
  if (!PRIVATE_NET_NAME.test(name)) {
    throw invalid(
      `private network name '${name}' is not valid`,
      'use 1 to 63 lower-case letters, digits and dashes, not starting with a dash (e.g. private:lab)',
    );
  }
}

function checkPrivateNetwork(net: PrivateNetwork): PrivateNetwork {
  checkPrivateNetName(net.name);
  if (!isUnicastMac(net.mac)) {
    throw invalid(
      `MAC '${net.mac}' for private network ${net.name} is not a unicast xx:xx:xx:xx:xx:xx address`,
      'leave the MAC out to derive one from the VM name, or clear the lowest bit of the first octet',
    );
  }
  // A tap name goes into a QEMU option string: a Linux interface name without commas or '='.
  if (net.tap !== undefined && !IFNAME.test(net.tap)) {
    throw invalid(
      `tap '${net.tap}' for network ${net.name} is not an interface name`,
      'use 1 to 15 letters, digits, dots, dashes and underscores',
    );
  }
  return { name: net.name, mac: net.mac.toLowerCase(), ...(net.tap !== undefined && { tap: net.tap }) };
}

/** User NIC on or off, and the private networks, from `network` and `networks` together. */
function resolveNetworks(
  input: VmSpecInput,
  network: Partial<NetworkSpec> | undefined,
): { user: boolean; private: PrivateNetwork[]; bridges: BridgeNic[] } {
  const options = (input.networks ?? []).map(parseNetworkOption);
  const kinds = new Set(options.map((o) => o.kind));
  if (kinds.has('user') && (kinds.has('none') || network?.user === false)) {
    throw invalid('user networking is both asked for and turned off', "give either 'user' or 'none'");
  }
  const user = kinds.has('none') ? false : kinds.has('user') || (network?.user ?? true);
  const derived = options.flatMap((o) => {
    if (o.kind !== 'private') return [];
    if (input.name === undefined) {
      throw invalid(
        `private network ${o.name} needs a VM name: the NIC's MAC address is derived from it`,
        'give the VM a name, or pass network.private entries with their own mac',
      );
    }
    return [{ name: o.name, mac: privateNetMac(input.name, o.name) }];
  });
  const nets = [...(network?.private ?? []), ...derived].map(checkPrivateNetwork);
  const seen = new Set<string>();
  for (const net of nets) {
    if (seen.has(net.name)) {
      throw invalid(`private network ${net.name} is given twice`, 'a VM has one NIC per private network');
    }
    seen.add(net.name);
  }
  return { user, private: nets, bridges: resolveBridges(input, network) };
}

/** The bridged NICs: those given whole, then one per `bridge:BR` option with a MAC derived from the VM name. */
function resolveBridges(input: VmSpecInput, network: Partial<NetworkSpec> | undefined): BridgeNic[] {
  const derived = (input.networks ?? []).map(parseNetworkOption).flatMap((o) => {
    if (o.kind !== 'bridge') return [];
    if (input.name === undefined) {
      throw invalid(
        `bridge ${o.name} needs a VM name: the NIC's MAC address is derived from it`,
        'give the VM a name, or pass network.bridges entries with their own mac',
      );
    }
    return [{ bridge: o.name, mac: privateNetMac(input.name, `bridge:${o.name}`) }];
  });
  const nics: BridgeNic[] = [...(network?.bridges ?? []), ...derived];
  for (const [i, nic] of nics.entries()) {
    if (
      !IFNAME.test(nic.bridge) ||
      !isUnicastMac(nic.mac) ||
      (nic.helper !== undefined && /[,\s]/.test(nic.helper))
    ) {
      throw invalid(`bridged NIC on ${nic.bridge} is not valid`, 'give a bridge name and a unicast MAC');
    }
    if (nics.findIndex((n) => n.bridge === nic.bridge) !== i) {
      throw invalid(`bridge ${nic.bridge} is given twice`, 'a VM has one NIC per bridge');
    }
  }
  return nics.map((n) => ({ ...n, mac: n.mac.toLowerCase() }));
}

function parseFirmware(value: string | Firmware | undefined): Firmware | undefined {
  if (value === undefined || value === 'bios' || value === 'uefi') return value;
  const path = typeof value === 'string' ? value : value.path;
  if (!path) throw invalid('firmware is empty', 'use bios, uefi, or the path of a firmware file');
  return { path };
}

/** `arch`'s own machine: its alias, or (where QEMU versions it) a versioned type of it (`pc-q35-7.2`). */
function fitsMachine(arch: Arch, value: string): boolean {
  const { machine, versionedMachine: prefix } = ARCH_TABLE[arch];
  if (value === machine) return true;
  return prefix !== undefined && value.startsWith(prefix) && /^\d+\.\d+$/.test(value.slice(prefix.length));
}

/** A machine type qlaunch's argv fits (the arch's own machine, any QEMU version of it), or undefined for the alias. */
export function parseMachineType(arch: Arch, value: string | undefined): string | undefined {
  if (value === undefined || fitsMachine(arch, value)) return value;
  const { machine, versionedMachine } = ARCH_TABLE[arch];
  const versioned = versionedMachine === undefined ? '' : ` or a versioned ${versionedMachine}X.Y`;
  throw invalid(
    `machine type '${value}' is not one qlaunch boots ${arch} guests on`,
    `use ${machine}${versioned} (\`${ARCH_TABLE[arch].binary} -machine help\` lists them), or leave it out`,
  );
}

/** Firmware requests the machine cannot honour, caught before any file is touched. */
function checkFirmware(arch: Arch, firmware: Firmware | undefined, input: VmSpecInput): void {
  if (firmware !== undefined && input.bios !== undefined) {
    throw invalid('both bios and firmware were given', 'give one: firmware (bios, uefi or a file) or bios');
  }
  const info = ARCH_TABLE[arch];
  if (firmware === 'bios' && info.bios.kind === 'none') {
    throw invalid(
      `firmware 'bios' is not available for ${arch}: ${info.bios.why}`,
      `use --firmware uefi, or boot a kernel directly with --kernel`,
    );
  }
  if (firmware === 'uefi' && info.uefi.kind === 'loader' && input.kernel !== undefined) {
    throw invalid(
      `firmware 'uefi' and a kernel do not go together on ${arch}: ${info.uefi.why}`,
      'drop --firmware uefi to boot the kernel directly, or drop --kernel to boot the disk',
    );
  }
}

/** The firmware a spec boots with: the one asked for, else none for a direct kernel boot, else the arch's default. */
export function bootFirmware(spec: VmSpec): Firmware | undefined {
  if (spec.firmware !== undefined) return spec.firmware;
  if (spec.kernel !== undefined || spec.bios !== undefined) return undefined;
  return ARCH_TABLE[spec.arch].diskFirmware;
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
  const firmware = parseFirmware(input.firmware);
  checkFirmware(arch, firmware, input);
  const { user, private: privateNets, bridges } = resolveNetworks(input, network);
  const mounts = normalizeMounts(input.mounts, process.cwd());
  const display = parseDisplay(input.display);
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
    machineType: parseMachineType(arch, input.machineType),
    kernel: input.kernel,
    initrd: input.initrd,
    append: input.append,
    bios: input.bios,
    firmware,
    disks,
    network: {
      user,
      forwards,
      mac: network?.mac,
      private: privateNets,
      ...(bridges.length > 0 && { bridges }),
    },
    noReboot: input.noReboot ?? false,
    ...(mounts.length > 0 ? { mounts } : {}),
    ...(display === 'vnc' ? { display } : {}),
  };
}

/** `none` or `vnc`, or SPEC_INVALID naming the choices. */
export function parseDisplay(value: string | undefined): Display {
  if (value === undefined) return 'none';
  if ((DISPLAYS as readonly string[]).includes(value)) return value as Display;
  throw invalid(`display '${value}' is not known`, 'use --display vnc (a screen over VNC) or none');
}
