// A host name as cloud-init sets it (RFC 1123): dot-separated labels of 1–63 letters, digits and dashes, not
// starting or ending with a dash, 253 characters in all.

import { ErrorCode, QlaunchError } from '../errors.js';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `name` is not a host name (pure), or undefined. */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > 253) return `it is ${name.length} characters long (at most 253)`;
  const bad = name.split('.').find((label) => !LABEL.test(label));
  if (bad === undefined) return undefined;
  if (bad === '') return 'it has an empty label (two dots in a row, or a dot at an end)';
  if (bad.length > 63)
    return `its label '${bad.slice(0, 20)}…' is ${bad.length} characters long (at most 63)`;
  return `its label '${bad}' holds more than letters, digits and inner dashes`;
}

/** Throws SEED_INVALID naming what is wrong with `name` as a host name. */
export function checkHostname(name: string): string {
  const problem = hostnameProblem(name);
  if (problem === undefined) return name;
  throw new QlaunchError(
    ErrorCode.SEED_INVALID,
    `hostname '${name.slice(0, 80)}' is not a valid host name: ${problem}`,
    {
      hint: 'use letters, digits and dashes, in dot-separated labels of at most 63 characters (e.g. web-1.lab)',
    },
  );
}
