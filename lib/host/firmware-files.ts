// Reading firmware descriptors from QEMU's firmware directories, and finding firmware files that exist.

import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  type FirmwareDescriptor,
  type FirmwareRequest,
  matchFirmware,
  orderDescriptorFiles,
  parseFirmwareDescriptor,
  toFirmwareChoice,
} from './firmware.js';
import type { FirmwareChoice } from './types.js';

/** Per-user, then sysadmin, then distro descriptors: highest priority first (firmware.json says so). */
export function defaultFirmwareDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const xdg = env['XDG_CONFIG_HOME'];
  const config = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return [join(config, 'qemu', 'firmware'), '/etc/qemu/firmware', '/usr/share/qemu/firmware'];
}

export interface LoadedDescriptors {
  /** Best first. */
  descriptors: FirmwareDescriptor[];
  /** One line per file that was skipped, naming it. */
  warnings: string[];
}

async function listDir(dir: string, warnings: string[]): Promise<{ name: string; size: number }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      warnings.push(`${dir}: cannot list firmware descriptors (${code})`);
    return [];
  }
  const sized = await Promise.all(
    names.map(async (name) => ({
      name,
      size: await stat(join(dir, name)).then(
        (s) => s.size,
        () => -1,
      ),
    })),
  );
  // A name we cannot stat still overrides (size -1 is neither empty nor loadable): reading it will warn.
  return sized.map(({ name, size }) => ({ name, size: size < 0 ? 1 : size }));
}

async function loadDescriptor(path: string, warnings: string[]): Promise<FirmwareDescriptor | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    warnings.push(
      `${path}: skipped, ${error instanceof SyntaxError ? 'not valid JSON' : 'unreadable'} (${(error as Error).message})`,
    );
    return undefined;
  }
  const parsed = parseFirmwareDescriptor(value, path);
  if ('descriptor' in parsed) return parsed.descriptor;
  warnings.push(`${path}: skipped, ${parsed.problem}`);
  return undefined;
}

/** Every descriptor in `dirs` (highest priority first), best first; broken files become warnings, not errors. */
export async function loadFirmwareDescriptors(
  dirs: readonly string[] = defaultFirmwareDirs(),
): Promise<LoadedDescriptors> {
  const warnings: string[] = [];
  const listed = await Promise.all(dirs.map(async (dir) => ({ dir, files: await listDir(dir, warnings) })));
  const loaded = await Promise.all(
    orderDescriptorFiles(listed).map((path) => loadDescriptor(path, warnings)),
  );
  return { descriptors: loaded.filter((d) => d !== undefined), warnings };
}

const exists = (path: string): Promise<boolean> =>
  access(path, constants.R_OK).then(
    () => true,
    () => false,
  );

/** The best matching firmware whose files are all readable; undefined when none is installed. */
export async function findFirmware(
  descriptors: readonly FirmwareDescriptor[],
  request: FirmwareRequest,
): Promise<FirmwareChoice | undefined> {
  for (const candidate of matchFirmware(descriptors, request).candidates) {
    const choice = toFirmwareChoice(candidate);
    const files = [choice.executable, ...(choice.nvramTemplate ? [choice.nvramTemplate] : [])];
    if ((await Promise.all(files.map(exists))).every(Boolean)) return choice;
  }
  return undefined;
}

/** QEMU's data directories for a binary, when it cannot be asked: next to its prefix first (as QEMU looks), then the distro's. */
export const qemuDataDirs = (binary: string): string[] => [
  ...new Set([join(dirname(binary), '..', 'share', 'qemu'), '/usr/share/qemu']),
];

/** The directories QEMU loads firmware from (`-L help`: Debian adds seabios and ipxe); the guess when it cannot say. */
export async function queryDataDirs(binary: string): Promise<string[]> {
  // Loaded on first use: execa costs start-up time every `qlaunch run` would pay.
  const { execa } = await import('execa');
  const result = await execa(binary, ['-L', 'help'], { reject: false, timeout: 5000, stdin: 'ignore' });
  const dirs = String(result.stdout)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => isAbsolute(line));
  return result.exitCode === 0 && dirs.length > 0 ? dirs.map((dir) => resolve(dir)) : qemuDataDirs(binary);
}

/** The first readable `name` in QEMU's data directories (e.g. OpenSBI for `-bios default`), if installed. */
export async function findDataFile(name: string, dataDirs: readonly string[]): Promise<string | undefined> {
  for (const dir of dataDirs) {
    const path = join(dir, name);
    if (await exists(path)) return path;
  }
  return undefined;
}
