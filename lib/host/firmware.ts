// Choosing firmware from QEMU's firmware descriptors (docs/interop/firmware.json) the way libvirt does: pure.

import { join } from 'node:path';
import type { FirmwareChoice } from './types.js';

export interface FirmwareFile {
  filename: string;
  format: string;
}

export type FirmwareMapping =
  | { device: 'flash'; mode: string; executable: FirmwareFile; nvramTemplate?: FirmwareFile | undefined }
  | { device: 'memory' | 'kernel'; filename: string };

export interface FirmwareTarget {
  architecture: string;
  /** Globs over machine type names, e.g. "pc-q35-*". */
  machines: string[];
}

/** The parts of one descriptor that choosing needs. */
export interface FirmwareDescriptor {
  /** The file it was read from. */
  file: string;
  description?: string | undefined;
  interfaceTypes: string[];
  mapping: FirmwareMapping;
  targets: FirmwareTarget[];
  features: string[];
}

export type ParsedDescriptor = { descriptor: FirmwareDescriptor } | { problem: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

function parseFile(value: unknown): FirmwareFile | undefined {
  if (!isObject(value) || typeof value['filename'] !== 'string') return undefined;
  return {
    filename: value['filename'],
    format: typeof value['format'] === 'string' ? value['format'] : 'raw',
  };
}

function parseMapping(value: unknown): FirmwareMapping | string {
  if (!isObject(value)) return 'no "mapping" object';
  const device = value['device'];
  if (device === 'flash') {
    const executable = parseFile(value['executable']);
    if (!executable) return 'flash mapping without "executable.filename"';
    const mode = typeof value['mode'] === 'string' ? value['mode'] : 'split';
    return { device, mode, executable, nvramTemplate: parseFile(value['nvram-template']) };
  }
  if (device === 'memory' || device === 'kernel') {
    if (typeof value['filename'] !== 'string') return `${device} mapping without "filename"`;
    return { device, filename: value['filename'] };
  }
  return `unknown mapping device ${JSON.stringify(device)}`;
}

/** Checks a parsed JSON value against the parts of the schema we use; says what is wrong instead of throwing. */
export function parseFirmwareDescriptor(value: unknown, file: string): ParsedDescriptor {
  if (!isObject(value)) return { problem: 'not a JSON object' };
  const interfaceTypes = value['interface-types'];
  if (!isStringArray(interfaceTypes)) return { problem: '"interface-types" is not a list of strings' };
  const mapping = parseMapping(value['mapping']);
  if (typeof mapping === 'string') return { problem: mapping };
  const targets = value['targets'];
  if (
    !Array.isArray(targets) ||
    !targets.every(
      (t) => isObject(t) && typeof t['architecture'] === 'string' && isStringArray(t['machines']),
    )
  ) {
    return { problem: '"targets" is not a list of {architecture, machines}' };
  }
  const features = value['features'] ?? [];
  if (!isStringArray(features)) return { problem: '"features" is not a list of strings' };
  const description = typeof value['description'] === 'string' ? value['description'] : undefined;
  return {
    descriptor: {
      file,
      description,
      interfaceTypes,
      mapping,
      targets: targets as FirmwareTarget[],
      features,
    },
  };
}

/** Glob match as libvirt does it (GLib's simple patterns): `*` any run, `?` any one character. */
export function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`).test(name);
}

export interface FirmwareRequest {
  /** QEMU's name for the guest architecture, e.g. "x86_64". */
  arch: string;
  /** Every name the machine type goes by (alias and versioned name): descriptors glob over versioned names. */
  machines: readonly string[];
  /** Default "uefi". */
  interfaceType?: string | undefined;
  /** Ask for secure boot: require the `secure-boot` feature. Without it, secure boot firmware is refused. */
  secureBoot?: boolean | undefined;
  requireFeatures?: readonly string[] | undefined;
  rejectFeatures?: readonly string[] | undefined;
}

export interface FirmwareMatch {
  /** Matching descriptors, best first (the order they came in). */
  candidates: FirmwareDescriptor[];
  rejected: { file: string; reason: string }[];
}

// Secure boot with enrolled keys refuses unsigned guests, and SMM builds need `smm=on`: only when asked.
const SECURE_BOOT_FEATURES = ['secure-boot', 'enrolled-keys', 'requires-smm'];

function rejection(descriptor: FirmwareDescriptor, request: FirmwareRequest): string | undefined {
  const wanted = request.interfaceType ?? 'uefi';
  if (!descriptor.interfaceTypes.includes(wanted)) return `interface-types lacks ${wanted}`;
  const target = descriptor.targets.some(
    (t) =>
      t.architecture === request.arch &&
      t.machines.some((glob) => request.machines.some((m) => globMatch(glob, m))),
  );
  if (!target) return `no target for ${request.arch} machine ${request.machines.join(' / ')}`;
  const { mapping } = descriptor;
  if (mapping.device === 'kernel') return 'kernel mappings are not supported';
  if (mapping.device === 'flash' && mapping.mode === 'combined')
    return 'combined flash mode is not supported';
  const required = [...(request.secureBoot ? ['secure-boot'] : []), ...(request.requireFeatures ?? [])];
  const missing = required.find((feature) => !descriptor.features.includes(feature));
  if (missing) return `lacks feature ${missing}`;
  const refused = [...(request.secureBoot ? [] : SECURE_BOOT_FEATURES), ...(request.rejectFeatures ?? [])];
  const unwanted = refused.find((feature) => descriptor.features.includes(feature));
  if (unwanted) return `has feature ${unwanted}, not asked for`;
  return undefined;
}

/** Sorts descriptors (already in priority order) into candidates and rejections with a reason each. */
export function matchFirmware(
  descriptors: readonly FirmwareDescriptor[],
  request: FirmwareRequest,
): FirmwareMatch {
  const match: FirmwareMatch = { candidates: [], rejected: [] };
  for (const descriptor of descriptors) {
    const reason = rejection(descriptor, request);
    if (reason) match.rejected.push({ file: descriptor.file, reason });
    else match.candidates.push(descriptor);
  }
  return match;
}

/** The descriptor as what argv building needs. */
export function toFirmwareChoice(descriptor: FirmwareDescriptor): FirmwareChoice {
  const { mapping, file, features } = descriptor;
  if (mapping.device === 'flash') {
    return {
      descriptor: file,
      device: 'flash',
      executable: mapping.executable.filename,
      format: mapping.executable.format,
      // Absent rather than undefined, so the choice survives a JSON round trip unchanged.
      ...(mapping.nvramTemplate && {
        nvramTemplate: mapping.nvramTemplate.filename,
        nvramTemplateFormat: mapping.nvramTemplate.format,
      }),
      features,
    };
  }
  return { descriptor: file, device: 'memory', executable: mapping.filename, format: 'raw', features };
}

/** The best matching firmware, or undefined when no descriptor fits. */
export function selectFirmware(
  descriptors: readonly FirmwareDescriptor[],
  request: FirmwareRequest,
): FirmwareChoice | undefined {
  const [best] = matchFirmware(descriptors, request).candidates;
  return best ? toFirmwareChoice(best) : undefined;
}

export interface DescriptorDir {
  dir: string;
  /** Directory entries with their sizes: a zero-length file hides same-named files in lower-priority dirs. */
  files: readonly { name: string; size: number }[];
}

/**
 * The descriptor files to read, best first: `dirs` go from highest priority to lowest, a name in a higher dir
 * overrides (or, when empty, hides) the same name below, and the survivors are sorted by file name.
 */
export function orderDescriptorFiles(dirs: readonly DescriptorDir[]): string[] {
  const chosen = new Map<string, { path: string; size: number }>();
  for (const { dir, files } of dirs) {
    for (const { name, size } of files) {
      if (name.endsWith('.json') && !chosen.has(name)) chosen.set(name, { path: join(dir, name), size });
    }
  }
  return [...chosen.entries()]
    .filter(([, file]) => file.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, file]) => file.path);
}
