// Host directories a guest sees: `--mount HOST[:GUEST][:OPTIONS]` and machine files' `mounts:` parsed and checked
// (pure: whether the host directory exists is checked by whoever boots the guest).

import { isAbsolute, normalize, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';

/** How a host directory reaches the guest: virtiofs (virtiofsd), 9p (QEMU itself), or the best this host has. */
export type MountType = 'virtiofs' | '9p' | 'auto';

export interface MountSpec {
  /** Absolute host directory. */
  host: string;
  /** Absolute path the guest mounts it on. */
  guest: string;
  /** false (the default): the guest cannot write to it, enforced on the host. */
  writable: boolean;
  type: MountType;
}

/** The loose form: `--mount` text, or a machine file's / launch()'s object. */
export type MountInput =
  | string
  | { host: string; guest?: string | undefined; writable?: boolean | undefined; type?: string | undefined };

export const MOUNT_TYPES: readonly MountType[] = ['virtiofs', '9p', 'auto'];

const MOUNT_FORM =
  'use HOST[:GUEST][:OPTIONS], e.g. --mount ./src:/src:rw,type=9p (OPTIONS: ro or rw, type=virtiofs|9p|auto)';

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

/** The guest's name for mount `index`: a 9p mount tag is at most 31 bytes, so tags are short and by position. */
export const mountTag = (index: number): string => `m${index}`;

export function parseMountType(value: string | undefined, where: string): MountType {
  if (value === undefined) return 'auto';
  if ((MOUNT_TYPES as readonly string[]).includes(value)) return value as MountType;
  throw invalid(`${where}: mount type '${value}' is not known`, 'use type=virtiofs, type=9p or type=auto');
}

/** One `--mount` value, its host path resolved against `base` (the cwd, or a machine file's directory). */
export function parseMountOption(text: string, base: string): MountSpec {
  const parts = text.split(':');
  const host = parts[0] ?? '';
  // A second part is the guest path when it is absolute; otherwise it is already the options.
  const guest = parts[1]?.startsWith('/') ? parts[1] : undefined;
  const rest = parts.slice(guest === undefined ? 1 : 2);
  if (host === '' || rest.length > 1) {
    throw invalid(
      `mount '${text}' is not HOST[:GUEST][:OPTIONS] (paths with ':' are not supported)`,
      MOUNT_FORM,
    );
  }
  let writable: boolean | undefined;
  let type: string | undefined;
  for (const option of rest[0] === undefined || rest[0] === '' ? [] : rest[0].split(',')) {
    if (option === 'ro' || option === 'rw') {
      if (writable !== undefined) throw invalid(`mount '${text}' gives ro/rw twice`, MOUNT_FORM);
      writable = option === 'rw';
    } else if (option.startsWith('type=') && type === undefined) {
      type = option.slice('type='.length);
    } else {
      throw invalid(`mount '${text}': option '${option}' is not known`, MOUNT_FORM);
    }
  }
  return checkMount({ host, guest, writable, type }, base, `mount '${text}'`);
}

function checkMount(input: Exclude<MountInput, string>, base: string, where: string): MountSpec {
  if (typeof input.host !== 'string' || input.host === '') {
    throw invalid(`${where}: the host directory is missing`, MOUNT_FORM);
  }
  const host = resolve(base, input.host);
  const guest = normalize(input.guest ?? host).replace(/(.)\/+$/, '$1');
  if (!isAbsolute(guest) || guest === '/') {
    throw invalid(
      `${where}: guest path '${input.guest}' is not an absolute directory below /`,
      'give an absolute guest path, e.g. ./src:/src',
    );
  }
  // The guest's /etc/fstab separates fields with blanks: a guest path cannot hold one.
  if (/[\s\\]/.test(guest)) {
    throw invalid(
      `${where}: guest path '${guest}' holds a blank or backslash`,
      'give a guest path without spaces, tabs or backslashes, e.g. ./my dir:/mydir',
    );
  }
  if (input.writable !== undefined && typeof input.writable !== 'boolean') {
    throw invalid(`${where}: writable must be true or false`, 'e.g. writable: true');
  }
  return { host, guest, writable: input.writable ?? false, type: parseMountType(input.type, where) };
}

/** A guest's mounts, relative host paths resolved against `base`; a host or guest path given twice is refused. */
export function normalizeMounts(inputs: readonly MountInput[] | undefined, base: string): MountSpec[] {
  const mounts = (inputs ?? []).map((m) =>
    typeof m === 'string' ? parseMountOption(m, base) : checkMount(m, base, `mount ${m.host}`),
  );
  for (const [i, m] of mounts.entries()) {
    const earlier = mounts.slice(0, i);
    if (earlier.some((e) => e.guest === m.guest)) {
      throw invalid(`guest path ${m.guest} is mounted twice`, 'give each mount its own guest path');
    }
    if (earlier.some((e) => e.host === m.host)) {
      throw invalid(`host directory ${m.host} is mounted twice`, 'mount each host directory once');
    }
  }
  return mounts;
}
