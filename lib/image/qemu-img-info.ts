// `qemu-img info --output=json` as typed facts: one image, or an image and its backing chain. Pure.

import { ErrorCode, QlaunchError } from '../errors.js';

/** What qemu-img info says about one image (one link of a backing chain). */
export interface ImageInfo {
  filename: string;
  format: string;
  /** Bytes the guest sees. */
  virtualSize: number;
  /** Bytes the file takes on the host's disk. */
  actualSize: number | undefined;
  clusterSize: number | undefined;
  /** As written in the image; relative names are relative to the image's directory. */
  backingFilename: string | undefined;
  /** The backing file as qemu-img resolved it. */
  fullBackingFilename: string | undefined;
  backingFormat: string | undefined;
  dirty: boolean;
  encrypted: boolean;
  /** qcow2's corrupt bit: QEMU found inconsistent metadata while using the image. */
  corrupt: boolean;
}

/** The image's own facts plus, when asked for, every image below it (nearest backing file first). */
export interface ImageInfoWithChain extends ImageInfo {
  backingChain: ImageInfo[];
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;
const optionalNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : undefined;

/** One entry of `qemu-img info --output=json`, checked and typed; `source` names the image in errors. */
export function parseImageInfo(value: unknown, source: string): ImageInfo {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const format = v['format'];
  const virtualSize = v['virtual-size'];
  if (typeof format !== 'string' || typeof virtualSize !== 'number') {
    throw new QlaunchError(
      ErrorCode.IMAGE_TOOL_FAILED,
      `qemu-img info gave no format or size for ${source}`,
      {
        hint: 'check the qemu-utils installation (apt-get install --reinstall qemu-utils)',
      },
    );
  }
  const specific = v['format-specific'] as { data?: { corrupt?: unknown } } | undefined;
  return {
    filename: optionalString(v['filename']) ?? source,
    format,
    virtualSize,
    actualSize: optionalNumber(v['actual-size']),
    clusterSize: optionalNumber(v['cluster-size']),
    backingFilename: optionalString(v['backing-filename']),
    fullBackingFilename: optionalString(v['full-backing-filename']),
    backingFormat: optionalString(v['backing-filename-format']),
    dirty: v['dirty-flag'] === true,
    encrypted: v['encrypted'] === true,
    corrupt: specific?.data?.corrupt === true,
  };
}

/** The stdout of `qemu-img info --output=json [--backing-chain]`: an object, or an array for the chain. */
export function parseImageInfoOutput(stdout: string, source: string): ImageInfoWithChain {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch (cause) {
    throw new QlaunchError(ErrorCode.IMAGE_TOOL_FAILED, `qemu-img info printed no JSON for ${source}`, {
      hint: 'check the qemu-utils installation (apt-get install --reinstall qemu-utils)',
      cause,
    });
  }
  const [top, ...chain] = (Array.isArray(data) ? data : [data]).map((entry) => parseImageInfo(entry, source));
  return { ...top!, backingChain: chain };
}
