// Finding QEMU's binaries (qemu-system-<arch>, qemu-img) on PATH and asking each for its version.

import { constants, statSync } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { QemuBinary, QemuImgBinary, QemuVersion } from './types.js';
import { parseQemuVersion } from './version.js';

/** Debian package that ships qemu-img, for install hints. */
export const QEMU_IMG_PACKAGE = 'qemu-utils';

export interface BinaryLookupOptions {
  /** Environment whose PATH is searched; defaults to process.env. */
  env?: NodeJS.ProcessEnv | undefined;
}

// A version query answers in ~15 ms; this only guards against a wedged binary.
const VERSION_TIMEOUT_MS = 5000;

async function isExecutableFile(path: string): Promise<boolean> {
  // A sync stat that returns undefined for a miss: most PATH entries miss, and thrown ENOENTs cost start-up time.
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return false;
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable file called `name` in the PATH-style list `pathVar`, or undefined. */
export async function findExecutable(name: string, pathVar: string | undefined): Promise<string | undefined> {
  // Relative entries (and the empty one, meaning cwd) would make the answer depend on where we run: skip them.
  const dirs = (pathVar ?? '').split(delimiter).filter((dir) => isAbsolute(dir));
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** Runs `path flag` and parses the version line; throws `code` naming the binary when it cannot. */
async function readVersion(path: string, flag: string, code: ErrorCode, pkg: string): Promise<QemuVersion> {
  // Loaded on first use: execa costs start-up time every `qlaunch run` would pay.
  const { execa } = await import('execa');
  const result = await execa(path, [flag], { reject: false, timeout: VERSION_TIMEOUT_MS, stdin: 'ignore' });
  const version = result.exitCode === 0 ? parseQemuVersion(String(result.stdout)) : undefined;
  if (version) return version;
  const detail = String(result.stderr).split('\n')[0] || result.shortMessage;
  throw new QlaunchError(code, `${path} ${flag} did not report a version: ${detail}`, {
    hint: `reinstall it: apt-get install --reinstall ${pkg}`,
  });
}

/** Version facts of the qemu-system binary at `path` (which need not be on PATH). */
export async function queryQemu(arch: Arch, path: string): Promise<QemuBinary> {
  const version = await readVersion(
    path,
    '-version',
    ErrorCode.HOST_QEMU_MISSING,
    ARCH_TABLE[arch].debianPackage,
  );
  return { arch, path, ...version };
}

/** qemu-system-<arch> from PATH with its version, or undefined when it is not installed. */
export async function findQemu(
  arch: Arch,
  options: BinaryLookupOptions = {},
): Promise<QemuBinary | undefined> {
  const env = options.env ?? process.env;
  const path = await findExecutable(ARCH_TABLE[arch].binary, env['PATH']);
  return path === undefined ? undefined : queryQemu(arch, path);
}

/** Like findQemu, but a missing binary is an error naming the Debian package to install. */
export async function requireQemu(arch: Arch, options: BinaryLookupOptions = {}): Promise<QemuBinary> {
  return queryQemu(arch, await locateQemu(arch, options));
}

/** The path of qemu-system-<arch> without running it (what starting a VM needs); missing is an error naming the package. */
export async function locateQemu(arch: Arch, options: BinaryLookupOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const found = await findExecutable(ARCH_TABLE[arch].binary, env['PATH']);
  if (found) return found;
  const { binary, debianPackage } = ARCH_TABLE[arch];
  throw new QlaunchError(
    ErrorCode.HOST_QEMU_MISSING,
    `${binary} not found on PATH (needed for ${arch} guests)`,
    {
      hint: `install it: apt-get install ${debianPackage}`,
    },
  );
}

/**
 * The full path of a qemu-system binary given as a path or as a name on PATH (as a shell finds it), without running
 * it; one that is neither is HOST_QEMU_MISSING naming it.
 */
export async function resolveQemuBinary(given: string, options: BinaryLookupOptions = {}): Promise<string> {
  if (given.includes('/')) {
    const path = resolve(given);
    if (await isExecutableFile(path)) return path;
    const found = statSync(path, { throwIfNoEntry: false });
    const problem = !found ? 'does not exist' : found.isFile() ? 'is not executable' : 'is not a file';
    throw new QlaunchError(ErrorCode.HOST_QEMU_MISSING, `QEMU binary ${given} ${problem}`, {
      hint: 'give the path of a qemu-system-* binary, or leave `binary` out to find it on PATH',
    });
  }
  const found = await findExecutable(given, (options.env ?? process.env)['PATH']);
  if (found) return found;
  throw new QlaunchError(ErrorCode.HOST_QEMU_MISSING, `QEMU binary ${given} is not on PATH`, {
    hint: 'give its full path, or install QEMU (apt-get install qemu-system-x86, qemu-system-arm or qemu-system-misc)',
  });
}

/** qemu-img from PATH with its version, or undefined when it is not installed. */
export async function findQemuImg(options: BinaryLookupOptions = {}): Promise<QemuImgBinary | undefined> {
  const env = options.env ?? process.env;
  const path = await findExecutable('qemu-img', env['PATH']);
  if (path === undefined) return undefined;
  return { path, ...(await readVersion(path, '--version', ErrorCode.HOST_TOOL_MISSING, QEMU_IMG_PACKAGE)) };
}

/** Like findQemuImg, but a missing qemu-img is an error naming the Debian package to install. */
export async function requireQemuImg(options: BinaryLookupOptions = {}): Promise<QemuImgBinary> {
  const found = await findQemuImg(options);
  if (found) return found;
  throw new QlaunchError(ErrorCode.HOST_TOOL_MISSING, 'qemu-img not found on PATH (needed for disk images)', {
    hint: `install it: apt-get install ${QEMU_IMG_PACKAGE}`,
  });
}
