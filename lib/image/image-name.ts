// Names of stored images: the rule they follow, and a name made from a URL or a file name when none is given: pure.

import { basename } from 'node:path';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';

/** Lower-case, starts with a letter or digit, at most 63 characters: safe as a directory name and in a URL. */
export const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** `name` when it is a valid image name; an error naming it otherwise. */
export function checkImageName(name: string): string {
  if (IMAGE_NAME.test(name)) return name;
  // A newline or other control character is shown escaped: the message stays one line.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  const shown = /[\u0000-\u001f\u007f]/.test(name) ? JSON.stringify(name) : `'${name}'`;
  throw new QlaunchError(ErrorCode.IMAGE_NAME_INVALID, `${shown} is not a valid image name`, {
    hint: 'use 1 to 63 lower-case letters, digits, dots, dashes and underscores, starting with a letter or digit',
  });
}

// What a disk file name ends with but an image name should not: formats, then compression.
const DISK_SUFFIX = /(\.(qcow2|qcow|img|raw|vmdk|vdi|vhdx|vhd|qed|iso|disk))?(\.(xz|gz|bz2|zst))?$/i;

/** The last path segment of a URL, percent-decoded (`…/debian-12-generic-amd64.qcow2` → that file name). */
export function urlFileName(url: string): string {
  const segment = new URL(url).pathname.split('/').at(-1) ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** An image name from a file name: extensions dropped, lower-cased, other characters turned into dashes. */
export function imageNameFrom(fileName: string): string {
  const stem = basename(fileName).replace(DISK_SUFFIX, '');
  const name = stem
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63)
    .replace(/[.-]+$/, '');
  if (name === '') {
    throw new QlaunchError(ErrorCode.IMAGE_NAME_INVALID, `cannot make an image name from '${fileName}'`, {
      hint: 'give one with --name',
    });
  }
  return name;
}

/** The name an image pulled from `url` gets unless one is given. */
export const imageNameFromUrl = (url: string): string => imageNameFrom(urlFileName(url));

/** The store name of `base`'s image for `arch` (`debian-12-local`, `debian-12-local-aarch64`): bare for x86_64. */
export const imageNameForArch = (base: string, arch: Arch): string =>
  arch === 'x86_64' ? base : `${base}-${arch}`;
