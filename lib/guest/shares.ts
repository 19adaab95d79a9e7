// A guest's mounts on this host: each directory checked, its transport chosen (virtiofs where virtiofsd can run,
// else 9p), and the access QEMU's own user needs for 9p checked before anything boots.

import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { virtiofsSocketName } from '../files.js';
import { runningAsRoot, userIds } from '../host/run-as.js';
import { defaultVhostUserDirs, findVirtiofsd } from '../host/virtiofsd.js';
import { type MountSpec, mountTag } from '../machine/mounts.js';
import type { Share } from '../qemu/shares.js';
import { startVirtiofsd, type VirtiofsdProcess } from './virtiofsd.js';

/** A mount with its tag and the transport that serves it on this host. */
export interface ChosenMount extends MountSpec {
  tag: string;
  transport: '9p' | 'virtiofs';
  /** The virtiofsd that serves it (virtiofs only). */
  virtiofsd?: string | undefined;
}

export interface TransportHost {
  /** virtiofsd's path, when the host has one. */
  virtiofsd: string | undefined;
  /** virtiofsd's sandbox needs namespaces, so root here. */
  root: boolean;
}

/** What this host can serve a mount with: virtiofsd found through QEMU's descriptors, and whether we are root. */
export async function probeTransports(vhostUserDirs?: readonly string[]): Promise<TransportHost> {
  return { virtiofsd: await findVirtiofsd(vhostUserDirs ?? defaultVhostUserDirs()), root: runningAsRoot() };
}

/** virtiofs when it was asked for or can run, else 9p; virtiofs asked for where it cannot run is refused (pure). */
export function chooseTransport(mount: MountSpec, host: TransportHost): '9p' | 'virtiofs' {
  // virtiofsd reads its source from a comma-separated -o list (with \ escapes): such a path could name another.
  const plain = !/[,\\]/.test(mount.host);
  const usable = host.virtiofsd !== undefined && host.root && plain;
  if (mount.type === '9p' || (mount.type === 'auto' && !usable)) return '9p';
  if (mount.type === 'virtiofs' && !plain) {
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `mount ${mount.host}: virtiofsd cannot be given a path with a comma or backslash`,
      { hint: 'use type=9p (or type=auto) for it, or rename the directory' },
    );
  }
  if (mount.type === 'virtiofs' && host.virtiofsd === undefined) {
    throw new QlaunchError(
      ErrorCode.HOST_TOOL_MISSING,
      `mount ${mount.host}: type=virtiofs needs virtiofsd, and this host has none`,
      {
        hint: 'install it (Debian 12: qemu-system-common ships /usr/lib/qemu/virtiofsd; newer systems: the virtiofsd package), or use type=9p',
      },
    );
  }
  if (mount.type === 'virtiofs' && !host.root) {
    throw new QlaunchError(
      ErrorCode.HOST_PRIVILEGE_MISSING,
      `mount ${mount.host}: type=virtiofs needs root (virtiofsd sandboxes itself with namespaces)`,
      { hint: 'run qlaunch as root, or use type=9p (or type=auto)' },
    );
  }
  return 'virtiofs';
}

/** A missing path or a file where a directory is wanted is refused by name. */
async function checkMountDir(mount: MountSpec): Promise<void> {
  const info = await stat(mount.host).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    throw new QlaunchError(
      ErrorCode.SPEC_FILE_MISSING,
      `host directory ${mount.host} ${info.code === 'ENOENT' ? 'does not exist' : `cannot be read (${info.code})`}`,
      { hint: 'create it, or fix the host path of the mount' },
    );
  }
  if (!info.isDirectory()) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, `host path ${mount.host} is not a directory`, {
      hint: 'mount a directory (to give the guest one file, mount the directory that holds it)',
    });
  }
}

/**
 * Check each host directory and choose its transport; `transports` (an instance's, recorded at create: its guest's
 * fstab names them) keeps each mount on the one it had.
 */
export async function chooseMounts(
  mounts: readonly MountSpec[] | undefined,
  vhostUserDirs?: readonly string[],
  transports?: readonly ('9p' | 'virtiofs')[],
): Promise<ChosenMount[]> {
  if (!mounts?.length) return [];
  const host = await probeTransports(vhostUserDirs);
  const chosen: ChosenMount[] = [];
  for (const [i, mount] of mounts.entries()) {
    await checkMountDir(mount);
    const kept = transports?.[i];
    const transport = chooseTransport(kept === undefined ? mount : { ...mount, type: kept }, host);
    chosen.push({
      ...mount,
      tag: mountTag(i),
      transport,
      ...(transport === 'virtiofs' ? { virtiofsd: host.virtiofsd } : {}),
    });
  }
  return chosen;
}

/** Whether `user` (QEMU's user after -runas, with its groups) can use `dir`: read it, and write it when `writable`. */
async function userCanUse(user: string, dir: string, writable: boolean): Promise<boolean> {
  const ids = await userIds(user);
  if (ids === undefined) return true;
  const test = ['-r', dir, '-a', '-x', dir, ...(writable ? ['-a', '-w', dir] : [])];
  const as = ['--reuid', String(ids.uid), '--regid', String(ids.gid), '--init-groups'];
  return new Promise((resolve) => {
    const child = spawn('setpriv', [...as, '--', 'test', ...test], { stdio: 'ignore' });
    child.once('error', () => resolve(true));
    child.once('close', (code) => resolve(code === 0));
  });
}

/**
 * 9p is served by QEMU itself, so as the user it drops to: a directory that user cannot read (or write, for rw) is
 * refused before boot, naming the fix, instead of failing in the guest.
 */
export async function checkShareAccess(
  mounts: readonly ChosenMount[],
  runAs: string | undefined,
): Promise<void> {
  if (runAs === undefined) return;
  for (const mount of mounts) {
    if (mount.transport !== '9p' || (await userCanUse(runAs, mount.host, mount.writable))) continue;
    const rights = mount.writable ? 'rwX' : 'rX';
    throw new QlaunchError(
      ErrorCode.HOST_PRIVILEGE_MISSING,
      `QEMU runs as ${runAs} and cannot ${mount.writable ? 'read and write' : 'read'} ${mount.host} (a 9p mount)`,
      {
        hint: `give ${runAs} access (e.g. setfacl -m u:${runAs}:${rights} ${mount.host}, and x on its parents), use type=virtiofs, or --run-as-root`,
      },
    );
  }
}

/** The shares QEMU is started with, and the virtiofsd processes serving them. */
export interface RunningShares {
  shares: Share[];
  daemons: VirtiofsdProcess[];
  /** Kill every virtiofsd (they also exit on their own once QEMU is gone) and wait for them. */
  stop(): Promise<void>;
}

/**
 * Start one virtiofsd per virtiofs mount, its socket in `runtimeDir`; 9p needs no process. `logFile`: an open fd
 * their output goes to, and they outlive this process (an instance's); else they are our children.
 */
export async function startShares(
  mounts: readonly ChosenMount[],
  runtimeDir: string,
  logFile?: number,
): Promise<RunningShares> {
  const daemons: VirtiofsdProcess[] = [];
  const stop = async () => {
    for (const d of daemons) d.kill();
    await Promise.all(daemons.map((d) => d.exited));
  };
  const shares: Share[] = [];
  try {
    for (const m of mounts) {
      if (m.transport === '9p') {
        shares.push({ transport: '9p', tag: m.tag, path: m.host, readOnly: !m.writable });
        continue;
      }
      const socket = join(runtimeDir, virtiofsSocketName(m.tag));
      const binary = m.virtiofsd ?? (await probeTransports()).virtiofsd ?? 'virtiofsd';
      daemons.push(await startVirtiofsd({ binary, dir: m.host, socket, readOnly: !m.writable, logFile }));
      shares.push({ transport: 'virtiofs', tag: m.tag, socket });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { shares, daemons, stop };
}
