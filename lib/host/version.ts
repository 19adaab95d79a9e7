// Parsing the version line QEMU tools print (`qemu-system-* -version`, `qemu-img --version`): pure.

import type { QemuVersion } from './types.js';

// "QEMU emulator version 7.2.22 (Debian …)", "qemu-img version 8.2.2 (…)", "QEMU emulator version 9.1.0".
const VERSION_RE = /\bversion\s+(\d+)\.(\d+)(?:\.(\d+))?/i;

/** The version in a tool's `-version` output (first non-empty line), or undefined if it has none. */
export function parseQemuVersion(output: string): QemuVersion | undefined {
  const banner = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .find((line) => line !== '');
  const match = banner === undefined ? null : VERSION_RE.exec(banner);
  if (!banner || !match) return undefined;
  const [major, minor, micro] = [match[1], match[2], match[3] ?? '0'].map(Number) as [number, number, number];
  return { version: `${major}.${minor}.${micro}`, major, minor, micro, banner };
}
