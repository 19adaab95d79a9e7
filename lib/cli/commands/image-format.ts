// How `qlaunch image` shows images to people: one-line summaries, the `ls` table, the `inspect` fields. Pure.

import { formatBytes } from '../../bytes.js';
import type { ImageInfoWithChain } from '../../image/qemu-img.js';
import type { StoredImage } from '../../image/store.js';
import { printable } from '../printable.js';

/** `sha256:0123456789ab…`: enough to tell images apart in a table. */
export const shortChecksum = (checksum: string): string =>
  checksum.replace(/^(\w+:[0-9a-f]{12})[0-9a-f]+$/, '$1…');

/** "qcow2, 2.0 GiB virtual, 350.1 MiB on disk, x86_64" */
export const imageSummary = (image: StoredImage): string =>
  [
    image.format,
    `${formatBytes(image.virtualSize)} virtual`,
    `${formatBytes(image.size)} on disk`,
    ...(image.arch ? [image.arch] : []),
  ].join(', ');

/** A stored image with why qlaunch would refuse its disk now, if it would. */
export type CheckedImage = StoredImage & { problem?: string | undefined };

/** An image directory whose record cannot be read: listed by name with why, as `ls` lists a damaged instance. */
interface DamagedImage {
  name: string;
  error: string;
}

/** A message of several lines as one table cell. */
const oneLine = (text: string): string =>
  text
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join('; ');

/**
 * The `ls` table: one row per image, columns padded; the source last since it is long, then a PROBLEM column
 * only when an image has one (a disk the format inspector refuses, or a record that cannot be read).
 */
export function formatImageTable(images: readonly (CheckedImage | DamagedImage)[]): string {
  if (images.length === 0) return 'no images (qlaunch image pull URL, or qlaunch image import FILE)\n';
  const problems = images.some((i) => 'error' in i || i.problem !== undefined);
  const rows = [
    ['NAME', 'FORMAT', 'VIRTUAL', 'SIZE', 'ARCH', 'CHECKSUM', 'SOURCE', ...(problems ? ['PROBLEM'] : [])],
    ...images.map((i) =>
      'error' in i
        ? [printable(i.name), '-', '-', '-', '-', '-', '-', printable(`damaged: ${oneLine(i.error)}`)]
        : [
            printable(i.name),
            i.format,
            formatBytes(i.virtualSize),
            formatBytes(i.size),
            i.arch ?? '-',
            shortChecksum(i.checksum),
            printable(i.origin === 'warm' ? `warm, on ${i.base ?? i.source}` : i.source),
            ...(problems ? [printable(i.problem ?? '-')] : []),
          ],
    ),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ');
  return `${rows.map(line).join('\n')}\n`;
}

/**
 * `inspect` for people: the record, then what qemu-img sees now; fields an image lacks are left out. A refused
 * disk (`problem`) was not shown to qemu-img: its record stands in, and the problem is the last field.
 */
export function formatImageDetails(
  image: StoredImage,
  info: ImageInfoWithChain | undefined,
  problem?: string,
  extra: readonly [string, string][] = [],
): string {
  const format = info?.format ?? image.format;
  const virtualSize = info?.virtualSize ?? image.virtualSize;
  const fields: [string, string | undefined][] = [
    ['name', image.name],
    ['format', `${format}${format === image.format ? '' : ` (recorded ${image.format})`}`],
    ['virtual size', `${formatBytes(virtualSize)} (${virtualSize} bytes)`],
    [
      'file size',
      info
        ? `${formatBytes(image.size)}, ${formatBytes(info.actualSize ?? image.size)} allocated`
        : formatBytes(image.size),
    ],
    ['checksum', image.checksum],
    ['origin', image.origin],
    ['source', image.source],
    ['added', image.added],
    ['arch', image.arch],
    ['disk', image.path],
    ['kernel', image.kernelPath],
    ['initrd', image.initrdPath],
    ['append', image.append],
    ['default user', image.defaultUser],
    ['stands on', image.base],
    [
      'backing chain',
      info && (info.backingChain.map((b) => `${b.filename} (${b.format})`).join(' → ') || 'none'),
    ],
    ...extra,
    ['problem', problem && `${problem}; qlaunch image rm ${image.name} removes it`],
  ];
  const shown = fields.filter((f): f is [string, string] => f[1] !== undefined);
  return `${shown.map(([k, v]) => `${`${k}:`.padEnd(14)} ${printable(v)}`).join('\n')}\n`;
}
