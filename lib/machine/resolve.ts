// A machine definition plus command-line overrides → the inputs of one launch, for one architecture: pure.

import { ARCH_TABLE, ARCHES, type Arch, hostArch, parseArch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { MachineDefinition } from './file.js';
import { parseSizeMiB } from './size.js';
import { type PortForward, parseDisplay, parsePortForward } from './spec.js';

/** What the command line can change about a machine (`qlaunch run NAME --cpus 4 --port 8080:80`). */
export interface MachineOverrides {
  arch?: string | undefined;
  cpus?: number | undefined;
  memory?: string | number | undefined;
  diskSize?: string | number | undefined;
  /** Added to the file's; one for a guest port the file forwards too replaces the file's. */
  ports?: readonly (string | PortForward)[] | undefined;
  /** A user-data file (already resolved by the caller), instead of the file's. */
  userData?: string | undefined;
  /** The confinement opt-outs (`--no-sandbox`, `--run-as-root`), over the file's. */
  sandbox?: boolean | undefined;
  runAsRoot?: boolean | undefined;
  /** `none` or `vnc`, over the file's. */
  display?: string | undefined;
}

/**
 * Everything `launch()` needs from a machine, for one architecture: the definition's fields with the architecture,
 * vCPUs and memory decided, and one image instead of one per architecture. A stored image that carries a kernel
 * (as built images do) boots that kernel directly unless `kernel` is given.
 */
export interface ResolvedMachine
  extends Omit<MachineDefinition, 'description' | 'source' | 'arch' | 'cpus' | 'memoryMiB' | 'images'> {
  arch: Arch;
  cpus: number;
  memoryMiB: number;
}

const DEFAULT_CPUS = 1;

/**
 * The architectures a machine can run as: those in `images`, plus, when it has one `image` (or only a kernel), the
 * file's `arch` or, without one, any.
 */
export function machineArches(def: MachineDefinition): Arch[] {
  const listed = ARCHES.filter((arch) => def.images[arch] !== undefined);
  const fallback = def.image !== undefined || listed.length === 0;
  if (!fallback) return listed;
  return def.arch === undefined
    ? [...ARCHES]
    : ARCHES.filter((arch) => listed.includes(arch) || arch === def.arch);
}

/** The architecture to run `def` as: the one asked for, else the file's, else the host's; one it has no image for is an error. */
export function chooseArch(def: MachineDefinition, requested: string | undefined): Arch {
  const arch = requested === undefined ? (def.arch ?? hostArch() ?? 'x86_64') : parseArch(requested);
  const available = machineArches(def);
  if (!available.includes(arch) && def.image?.kind === 'stored') {
    throw new QlaunchError(
      ErrorCode.SPEC_ARCH_UNSUPPORTED,
      `image ${def.image.name} is for ${available.join(', ')}, not ${arch}`,
      { hint: `run it as ${available[0]} (--arch ${available[0]}), or use an image made for ${arch}` },
    );
  }
  if (!available.includes(arch)) {
    throw new QlaunchError(
      ErrorCode.SPEC_ARCH_UNSUPPORTED,
      `machine '${def.name}' (${def.source}) has no image for ${arch}`,
      {
        hint: `it has ${available.join(', ')}: pass --arch ${available[0]}, or add images.${arch} to the file`,
      },
    );
  }
  return arch;
}

/** File forwards, then the overrides; an override for a guest port the file already forwards takes its place. */
export function mergePorts(
  file: readonly PortForward[],
  extra: readonly (string | PortForward)[],
): PortForward[] {
  const added = extra.map((p) => (typeof p === 'string' ? parsePortForward(p) : p));
  const replaced = (p: PortForward) =>
    added.some((a) => a.guestPort === p.guestPort && a.protocol === p.protocol);
  const ports = [...file.filter((p) => !replaced(p)), ...added];
  const seen = new Set<string>();
  for (const p of ports) {
    const key = `${p.hostAddress}:${p.hostPort}/${p.protocol}`;
    if (p.hostPort !== 0 && seen.has(key)) {
      throw new QlaunchError(
        ErrorCode.SPEC_INVALID,
        `host port ${p.hostPort}/${p.protocol} is forwarded twice`,
        {
          hint: 'give each forward its own host port',
        },
      );
    }
    seen.add(key);
  }
  return ports;
}

/** The launch inputs for `def` on `overrides.arch` (else the file's arch, else the host's). */
export function resolveMachine(def: MachineDefinition, overrides: MachineOverrides = {}): ResolvedMachine {
  const arch = chooseArch(def, overrides.arch);
  const image = def.images[arch] ?? def.image;
  const cpus = overrides.cpus ?? def.cpus ?? DEFAULT_CPUS;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, `cpus '${cpus}' is not a whole number from 1 to 255`, {
      hint: 'use e.g. --cpus 2',
    });
  }
  return {
    name: def.name,
    arch,
    cpus,
    memoryMiB:
      overrides.memory === undefined
        ? (def.memoryMiB ?? ARCH_TABLE[arch].defaultMemoryMiB)
        : parseSizeMiB(overrides.memory, 'memory'),
    diskSizeMiB:
      overrides.diskSize === undefined ? def.diskSizeMiB : parseSizeMiB(overrides.diskSize, 'disk size'),
    image,
    kernel: def.kernel,
    initrd: def.initrd,
    append: def.append,
    firmware: image?.firmware ?? def.firmware,
    machineType: def.machineType,
    ports: mergePorts(def.ports, overrides.ports ?? []),
    userData: overrides.userData === undefined ? def.userData : { kind: 'file', path: overrides.userData },
    sshUser: def.sshUser,
    readiness: def.readiness,
    sandbox: overrides.sandbox ?? def.sandbox,
    runAsRoot: overrides.runAsRoot ?? def.runAsRoot,
    ...(def.mounts === undefined ? {} : { mounts: def.mounts }),
    ...(parseDisplay(overrides.display ?? def.display) === 'vnc' && { display: 'vnc' as const }),
  };
}
