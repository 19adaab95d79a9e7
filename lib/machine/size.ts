// Parsing of human sizes ("512M", "2G", "1.5GiB") into MiB, the unit QEMU's -m takes.

import { ErrorCode, QlaunchError } from '../errors.js';

const UNIT_MIB: Record<string, number> = {
  '': 1, // a bare number means MiB, as QEMU's -m does
  k: 1 / 1024,
  m: 1,
  g: 1024,
  t: 1024 * 1024,
};

/** Parse a memory size into whole MiB. Accepts K/M/G/T with optional "i" and "B" (binary units either way). */
export function parseSizeMiB(value: string | number, what = 'size'): number {
  const text = String(value).trim();
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? '';
  const mib = match ? Number(match[1]) * (UNIT_MIB[unit] ?? Number.NaN) : Number.NaN;
  if (!Number.isFinite(mib) || mib < 1 || !Number.isInteger(mib)) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, `${what} '${text}' is not a size qlaunch understands`, {
      hint: `give a whole number of MiB or a size with a unit, e.g. 512M, 2G, 1.5G`,
    });
  }
  return mib;
}

/** Format MiB for humans: 2048 → "2G", 1536 → "1536M". */
export const formatMiB = (mib: number): string => (mib % 1024 === 0 ? `${mib / 1024}G` : `${mib}M`);
