// image.json, the record beside each stored disk: what it is, where it came from, how to boot it. Pure.

import { ARCHES, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { IMAGE_NAME } from './image-name.js';

export const IMAGE_ORIGINS = ['pull', 'import', 'build', 'warm'] as const;
export type ImageOrigin = (typeof IMAGE_ORIGINS)[number];

/** What image.json holds. File names are relative to the image's directory, so the store can move. */
export interface ImageMetadata {
  schema: 1;
  name: string;
  /** Disk format: raw or qcow2, as the format inspector found it (a store made before it may hold others). */
  format: string;
  /** The disk's file name, `disk.<format>`. */
  disk: string;
  /** Bytes the guest sees. */
  virtualSize: number;
  /** Bytes of the disk file. */
  size: number;
  /** `sha256:HEX` (or sha512) of the disk file, as verified when it was added. */
  checksum: string;
  origin: ImageOrigin;
  /** The URL it was pulled from, the file it was imported from, or what built it. */
  source: string;
  /** When it was added, ISO 8601. */
  added: string;
  arch?: Arch | undefined;
  /** Direct-boot images: kernel and initrd file names, and the kernel command line. */
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  /** The user cloud-init gives the seed's SSH keys. */
  defaultUser?: string | undefined;
  /** Versions of notable packages inside (built images). */
  packages?: Record<string, string> | undefined;
  /** Warm images: the stored image its disk layer stands on. */
  base?: string | undefined;
}

export const METADATA_SCHEMA = 1;

/** A file name inside the image directory: no separators, not hidden. */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const OPTIONAL_STRINGS = ['append', 'defaultUser'] as const;
const OPTIONAL_FILES = ['kernel', 'initrd'] as const;

export const metadataJson = (metadata: ImageMetadata): string => `${JSON.stringify(metadata, null, 2)}\n`;

/** image.json's text as metadata, after checking every field a consumer relies on; `path` names it in errors. */
export function parseImageMetadata(text: string, path: string): ImageMetadata {
  const bad = (what: string, cause?: unknown) =>
    new QlaunchError(ErrorCode.IMAGE_STORE, `${path} is not a qlaunch image record: ${what}`, {
      hint: 'remove the image (qlaunch image rm NAME) and add it again',
      cause,
    });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw bad('not JSON', cause);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw bad('not an object');
  const m = data as Record<string, unknown>;
  if (m['schema'] !== METADATA_SCHEMA) throw bad(`unknown schema ${JSON.stringify(m['schema'])}`);
  if (typeof m['name'] !== 'string' || !IMAGE_NAME.test(m['name'])) throw bad('no valid name');
  if (typeof m['format'] !== 'string' || !/^[a-z0-9]+$/.test(m['format'])) throw bad('no valid format');
  if (typeof m['disk'] !== 'string' || !FILE_NAME.test(m['disk'])) throw bad('no valid disk file name');
  for (const key of ['virtualSize', 'size'] as const) {
    if (!Number.isSafeInteger(m[key]) || (m[key] as number) < 0) throw bad(`no valid ${key}`);
  }
  if (typeof m['checksum'] !== 'string' || !/^(sha256|sha512):[0-9a-f]+$/.test(m['checksum'])) {
    throw bad('no valid checksum');
  }
  if (!(IMAGE_ORIGINS as readonly unknown[]).includes(m['origin'])) throw bad('no valid origin');
  for (const key of ['source', 'added'] as const) {
    if (typeof m[key] !== 'string') throw bad(`no ${key}`);
  }
  if (m['arch'] !== undefined && !(ARCHES as readonly unknown[]).includes(m['arch']))
    throw bad('unknown arch');
  for (const key of OPTIONAL_FILES) {
    if (m[key] !== undefined && (typeof m[key] !== 'string' || !FILE_NAME.test(m[key] as string))) {
      throw bad(`no valid ${key} file name`);
    }
  }
  for (const key of OPTIONAL_STRINGS) {
    if (m[key] !== undefined && typeof m[key] !== 'string') throw bad(`${key} is not a string`);
  }
  if (m['base'] !== undefined && (typeof m['base'] !== 'string' || !IMAGE_NAME.test(m['base'])))
    throw bad('no valid base image name');
  const packages = m['packages'];
  if (
    packages !== undefined &&
    (typeof packages !== 'object' ||
      packages === null ||
      !Object.values(packages).every((v) => typeof v === 'string'))
  ) {
    throw bad('packages is not a name → version map');
  }
  return data as ImageMetadata;
}
