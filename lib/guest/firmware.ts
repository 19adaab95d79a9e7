// Firmware for one VM on this host: descriptors read, firmware chosen, the VM's own NVRAM copy made.

import { constants } from 'node:fs';
import { access, chmod, copyFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type FirmwareDescriptor, matchFirmware, toFirmwareChoice } from '../host/firmware.js';
import { defaultFirmwareDirs, findFirmware, loadFirmwareDescriptors } from '../host/firmware-files.js';
import { listMachines, machineNames } from '../host/machines.js';
import type { FirmwareChoice } from '../host/types.js';
import { bootFirmware, type VmSpec } from '../machine/spec.js';
import type { ResolvedFirmware } from '../qemu/argv.js';

export interface ResolveFirmwareOptions {
  /** The qemu-system binary (asked for its machine aliases when descriptors need them). */
  binary: string;
  /** Where the VM's copy of the UEFI variable store goes (0600). */
  nvramPath: string;
  /** Keep an NVRAM file already at `nvramPath` (a persistent instance's) instead of copying the template again. */
  keepExistingNvram?: boolean | undefined;
  /** Firmware descriptor dirs, highest priority first; default per-user, /etc/qemu, /usr/share/qemu. */
  firmwareDirs?: readonly string[] | undefined;
}

const readable = (path: string): Promise<boolean> =>
  access(path, constants.R_OK).then(
    () => true,
    () => false,
  );

// Secure boot builds only when asked (they refuse unsigned loaders or need SMM); qlaunch does not ask yet.
const SECURE = ['secure-boot', 'enrolled-keys', 'requires-smm'];
const isSecure = (d: FirmwareDescriptor) => d.features.some((f) => SECURE.includes(f));
const targetsArch = (d: FirmwareDescriptor, arch: Arch) => d.targets.some((t) => t.architecture === arch);

/** The names the spec's machine goes by; QEMU is asked for its aliases only when a descriptor's glob needs them. */
async function machinesFor(spec: VmSpec, binary: string, descriptors: readonly FirmwareDescriptor[]) {
  const { arch } = spec;
  const machine = spec.machineType ?? ARCH_TABLE[arch].machine;
  const globs = descriptors.flatMap((d) => d.targets.filter((t) => t.architecture === arch));
  if (globs.length === 0 || globs.some((t) => t.machines.includes(machine))) return [machine];
  return machineNames(machine, await listMachines(binary));
}

/** Copy the template byte for byte (pflash sizes must match), atomically, 0600; or keep the instance's own. */
async function placeNvram(template: string, path: string, keepExisting: boolean): Promise<'copied' | 'kept'> {
  if (keepExisting && (await readable(path))) return 'kept';
  const partial = `${path}.${process.pid}.partial`;
  try {
    await copyFile(template, partial);
    // copyFile gives the copy the template's mode (world-readable): tighten it before it takes its name.
    await chmod(partial, 0o600);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw new QlaunchError(
      ErrorCode.HOST_FIRMWARE_MISSING,
      `cannot copy UEFI variable store ${template} to ${path}`,
      {
        hint: `check that ${template} is readable and there is room for it next to ${path}`,
        cause: error,
      },
    );
  }
  return 'copied';
}

/** A descriptor's choice as argv firmware, with the NVRAM template copied into place. */
async function place(
  choice: FirmwareChoice,
  options: ResolveFirmwareOptions,
  what: string,
): Promise<ResolvedFirmware> {
  const from = choice.descriptor ? ` (${basename(choice.descriptor)})` : '';
  if (choice.device === 'memory') {
    return {
      kind: 'bios',
      path: choice.executable,
      description: `${what}: -bios ${choice.executable}${from}`,
    };
  }
  const executable = { path: choice.executable, format: choice.format };
  if (!choice.nvramTemplate) {
    return {
      kind: 'pflash',
      executable,
      description: `${what}: ${choice.executable}${from}, no variable store`,
    };
  }
  const how = await placeNvram(choice.nvramTemplate, options.nvramPath, options.keepExistingNvram ?? false);
  return {
    kind: 'pflash',
    executable,
    nvram: { path: options.nvramPath, format: choice.nvramTemplateFormat ?? 'raw' },
    description: `${what}: ${choice.executable}${from}, variables ${how === 'kept' ? 'kept in' : `copied from ${choice.nvramTemplate} to`} ${options.nvramPath}`,
  };
}

function uefiMissing(arch: Arch, dirs: readonly string[], considered: string[]): QlaunchError {
  const info = ARCH_TABLE[arch];
  const why =
    considered.length > 0 ? `; considered: ${considered.join('; ')}` : `; no descriptor is for ${arch}`;
  return new QlaunchError(
    ErrorCode.HOST_FIRMWARE_MISSING,
    `no UEFI firmware for ${arch} (machine ${info.machine}) in ${dirs.join(', ')}${why}`,
    { hint: `install it: apt-get install ${info.uefi.debianPackage}` },
  );
}

/** edk2 chosen from QEMU's firmware descriptors, as libvirt chooses it. */
async function edk2(spec: VmSpec, options: ResolveFirmwareOptions, dirs: readonly string[]) {
  const { descriptors } = await loadFirmwareDescriptors(dirs);
  const machines = await machinesFor(spec, options.binary, descriptors);
  const choice = await findFirmware(descriptors, { arch: spec.arch, machines });
  if (choice) return place(choice, options, 'UEFI');
  const { rejected } = matchFirmware(descriptors, { arch: spec.arch, machines });
  // Each descriptor for this arch, in priority order, with why it was not taken.
  const considered = descriptors
    .filter((d) => targetsArch(d, spec.arch))
    .map((d) => {
      const reason = rejected.find((r) => r.file === d.file)?.reason ?? 'its files are missing';
      return `${basename(d.file)}: ${reason}`;
    });
  throw uefiMissing(spec.arch, dirs, considered);
}

/** riscv64's UEFI: an S-mode boot loader run as the kernel on top of OpenSBI. */
async function loader(spec: VmSpec): Promise<ResolvedFirmware> {
  const { uefi, bios } = ARCH_TABLE[spec.arch];
  if (uefi.kind !== 'loader' || bios.kind !== 'option') {
    throw new QlaunchError(
      ErrorCode.SPEC_ARCH_UNSUPPORTED,
      `${spec.arch} has no UEFI boot loader in the arch table`,
    );
  }
  if (!(await readable(uefi.path))) {
    throw new QlaunchError(
      ErrorCode.HOST_FIRMWARE_MISSING,
      `no UEFI for ${spec.arch}: ${uefi.path} is not installed (${uefi.why})`,
      { hint: `install it: apt-get install ${uefi.debianPackage}` },
    );
  }
  return {
    kind: 'loader',
    bios: bios.value,
    loader: uefi.path,
    description: `UEFI: ${uefi.path} on OpenSBI (-bios ${bios.value})`,
  };
}

function bios(arch: Arch): ResolvedFirmware {
  const info = ARCH_TABLE[arch].bios;
  if (info.kind === 'builtin') return { kind: 'bios' };
  if (info.kind === 'option') {
    return { kind: 'bios', path: info.value, description: `BIOS: -bios ${info.value} (${info.file})` };
  }
  throw new QlaunchError(
    ErrorCode.SPEC_INVALID,
    `firmware 'bios' is not available for ${arch}: ${info.why}`,
    {
      hint: 'use --firmware uefi, or boot a kernel directly with --kernel',
    },
  );
}

/** A firmware file: an edk2 build some descriptor knows goes on pflash with its variable store, anything else is `-bios`. */
async function file(path: string, spec: VmSpec, options: ResolveFirmwareOptions, dirs: readonly string[]) {
  const full = resolve(path);
  const real = await realpath(full).catch(() => undefined);
  if (!real || !(await stat(real)).isFile() || !(await readable(real))) {
    throw new QlaunchError(
      ErrorCode.SPEC_FILE_MISSING,
      `firmware ${path} ${real ? 'is not a readable file' : 'does not exist'}`,
      { hint: 'give bios, uefi, or the path of a firmware file (e.g. /usr/share/OVMF/OVMF_CODE_4M.fd)' },
    );
  }
  const { descriptors } = await loadFirmwareDescriptors(dirs);
  const owners: FirmwareDescriptor[] = [];
  for (const d of descriptors) {
    const exe = d.mapping.device === 'flash' ? d.mapping.executable.filename : d.mapping.filename;
    if ((await realpath(exe).catch(() => exe)) === real) owners.push(d);
  }
  if (owners.length === 0) {
    return {
      kind: 'bios',
      path: full,
      description: `-bios ${full} (no firmware descriptor knows it)`,
    } as const;
  }
  const forArch = owners.filter((d) => targetsArch(d, spec.arch));
  if (forArch.length === 0) {
    const arches = [...new Set(owners.flatMap((d) => d.targets.map((t) => t.architecture)))].join(', ');
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `firmware ${path} is for ${arches} (${basename(owners[0]?.file ?? '')}), not ${spec.arch}`,
      { hint: `use --firmware uefi to get the ${spec.arch} one, or a firmware file built for ${spec.arch}` },
    );
  }
  // The same code file often backs a secure-boot descriptor too (symlinks): the plain one, unless that is all there is.
  const [best] = [...forArch.filter((d) => !isSecure(d)), ...forArch.filter(isSecure)];
  const choice = { ...toFirmwareChoice(best as FirmwareDescriptor), executable: full };
  const kind = choice.device === 'flash' ? `edk2 for ${spec.arch}, so pflash` : `${spec.arch} firmware`;
  return place(choice, options, `${path} is ${kind}`);
}

/**
 * The firmware `spec` boots with on this host, its files in place (the NVRAM copy at `nvramPath`); undefined when
 * it boots a kernel directly with nothing to resolve. Errors name the Debian package to install.
 */
export async function resolveFirmware(
  spec: VmSpec,
  options: ResolveFirmwareOptions,
): Promise<ResolvedFirmware | undefined> {
  const wanted = bootFirmware(spec);
  if (wanted === undefined) return undefined;
  if (wanted === 'bios') return bios(spec.arch);
  const dirs = options.firmwareDirs ?? defaultFirmwareDirs();
  if (wanted === 'uefi') {
    return ARCH_TABLE[spec.arch].uefi.kind === 'loader' ? loader(spec) : edk2(spec, options, dirs);
  }
  return file(wanted.path, spec, options, dirs);
}
