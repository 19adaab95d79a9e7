// `launch({ kernel, rootfs, command })`: boot a kernel on a host directory as its root (read-only, writes in a
// tmpfs overlay), run one command and report its exit status: the guest side is a generated initramfs.

import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkGuestMemory } from '../host/memory.js';
import { buildInitramfs } from '../initramfs/build.js';
import { type MountSpec, type MountType, normalizeMounts, parseMountType } from '../machine/mounts.js';
import { normalizeSpec, type VmSpecInput } from '../machine/spec.js';
import type { Guest } from './guest.js';
import type { LaunchOptions } from './launch-options.js';
import { createRunDir } from './run-dir.js';
import { chooseMounts } from './shares.js';
import { startThrowaway } from './throwaway.js';

/** What a rootfs guest adds to a kernel spec. */
export interface RootfsInput {
  /** The host directory booted as root (e.g. `/`, or a tree mmdebstrap made), or it with its transport. */
  rootfs: string | { path: string; type?: MountType | undefined };
  /** argv of the command the guest runs; the guest powers off when it ends. */
  command: readonly string[];
  /** The kernel's modules tree (`…/lib/modules/RELEASE`); default: the root's own for the kernel's release. */
  modulesDir?: string | undefined;
}

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

/** `DIR` or `DIR:type=9p|virtiofs|auto` (the form of `--rootfs`), pure. */
export function parseRootfs(text: string): { path: string; type: MountType } {
  const at = text.lastIndexOf(':type=');
  if (at < 0) return { path: text, type: 'auto' };
  return {
    path: text.slice(0, at),
    type: parseMountType(text.slice(at + ':type='.length), `rootfs '${text}'`),
  };
}

function checkCommand(command: unknown): readonly string[] {
  if (!Array.isArray(command) || command.length === 0 || command.some((a) => typeof a !== 'string')) {
    throw invalid(
      'a rootfs guest needs a command: a non-empty array of strings',
      'e.g. command: ["uname", "-r"] (qlaunch run --kernel K --rootfs / -- uname -r)',
    );
  }
  return command as string[];
}

async function checkRootDir(path: string): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) {
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `root directory ${path} does not exist`, {
      hint: 'give a directory holding a root file system, e.g. --rootfs / or a tree made by mmdebstrap',
    });
  }
  if (!info.isDirectory()) {
    throw invalid(`root ${path} is not a directory`, 'give a directory holding a root file system');
  }
}

/** The exit status the guest wrote on its status port: a number on one line, or nothing. */
async function readStatus(file: string): Promise<number | undefined> {
  const text = (await readFile(file, 'utf8').catch(() => '')).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

export async function launchRootfs(
  input: VmSpecInput & RootfsInput & { sandbox?: boolean | undefined; runAsRoot?: boolean | undefined },
  options: LaunchOptions,
): Promise<Guest> {
  const command = checkCommand(input.command);
  if (input.kernel === undefined) {
    throw invalid('rootfs needs a kernel to boot on it', 'give kernel too (--kernel bzImage|Image)');
  }
  if (input.initrd !== undefined) {
    throw invalid(
      'rootfs and initrd do not go together: qlaunch makes the rootfs guest its own initramfs',
      'drop initrd (its modules come from the kernel modules tree: see modulesDir / --modules)',
    );
  }
  const root = typeof input.rootfs === 'string' ? parseRootfs(input.rootfs) : input.rootfs;
  const rootPath = resolve(root.path);
  await checkRootDir(rootPath);
  // The spec as asked for, less the initramfs it has yet: checks every other option before anything is made.
  const asked = normalizeSpec({ ...input, initrd: undefined });
  checkGuestMemory(asked.memoryMiB);
  const userMounts = normalizeMounts(input.mounts, process.cwd());
  // auto is 9p for a root: it shows every file system under it (multidevs=remap), where a read-only virtiofsd
  // serves the top one only, and cannot serve / itself (its pid file would be on the read-only root).
  const type = root.type === undefined || root.type === 'auto' ? '9p' : root.type;
  if (type === 'virtiofs' && rootPath === '/') {
    throw invalid(
      'virtiofs cannot serve / read-only as a root here (virtiofsd keeps its pid file under /run)',
      'use --rootfs / (9p), or a tree of its own with type=virtiofs',
    );
  }
  const rootMount: MountSpec = { host: rootPath, guest: '/', writable: false, type };
  const [rootShare, ...shares] = await chooseMounts([rootMount, ...userMounts], options.vhostUserDirs);
  if (rootShare === undefined) throw new Error('the root share was not chosen');
  const initramfs = await buildInitramfs({
    kernel: input.kernel,
    arch: asked.arch,
    rootfs: rootPath,
    modulesDir: input.modulesDir,
    root: rootShare,
    mounts: shares,
    network: asked.network.user,
    command,
  });
  options.onProgress?.(
    `rootfs ${rootPath} over ${rootShare.transport}, kernel ${initramfs.release ?? '(release unknown)'} with modules from ${initramfs.modulesDir}`,
  );
  const dir = await createRunDir();
  try {
    const initrd = join(dir, 'initrd');
    const status = join(dir, 'status');
    await writeFile(initrd, initramfs.cpio, { mode: 0o600 });
    // loglevel=1: the console is the command's output; only a panic or oops prints (the kernel raises it then).
    const append = [`console=${ARCH_TABLE[asked.arch].console}`, 'loglevel=1', 'panic=-1', input.append]
      .filter(Boolean)
      .join(' ');
    // A panic (panic=-1 reboots) ends the run instead of running the command again.
    const spec = normalizeSpec({ ...input, initrd, append, noReboot: input.noReboot ?? true });
    return await startThrowaway(spec, options, {
      mounts: [rootShare, ...shares],
      removeOnDeath: [dir],
      status: { file: status, read: () => readStatus(status) },
      onExit: () => rm(dir, { recursive: true, force: true }),
      confine: { sandbox: input.sandbox, runAsRoot: input.runAsRoot },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
