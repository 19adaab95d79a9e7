// A throwaway guest's boot: its files checked, host and firmware chosen, sockets in a private directory that is gone
// once QEMU is attached. launch() and warm clones boot through it.

import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { silentLogger } from '../logger.js';
import { bootFirmware, type VmSpec } from '../machine/spec.js';
import { checkBridges } from '../network/bridge-check.js';
import type { ArgvPlan, ResolvedFirmware } from '../qemu/argv.js';
import type { ConfinementChoice } from '../qemu/confinement.js';
import { MAX_UNIX_PATH_BYTES } from '../qmp/socket.js';
import { type BootPlan, bootGuest } from './boot.js';
import { resolveConfinement } from './confinement.js';
import type { Guest } from './guest.js';
import { resolveHost } from './host-choice.js';
import type { LaunchOptions } from './launch-options.js';
import {
  type ChosenMount,
  checkShareAccess,
  chooseMounts,
  type RunningShares,
  startShares,
} from './shares.js';

const usage = (message: string, hint: string) => new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

export async function checkFiles(spec: VmSpec): Promise<void> {
  const files: [string, string | undefined, number][] = [
    ['kernel', spec.kernel, constants.R_OK],
    ['initrd', spec.initrd, constants.R_OK],
    ...spec.disks.map((d): [string, string, number] => [
      'disk',
      d.path,
      d.readOnly ? constants.R_OK : constants.R_OK | constants.W_OK,
    ]),
  ];
  for (const [what, path, mode] of files) {
    if (path === undefined) continue;
    try {
      await access(path, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new QlaunchError(
        ErrorCode.SPEC_FILE_MISSING,
        `${what} ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})`}`,
        { hint: code === 'ENOENT' ? `check the path of the ${what}` : `check the permissions of ${path}` },
      );
    }
  }
}

/**
 * The spec's firmware, with the NVRAM copy at `nvramPath`: a throwaway run's is unlinked with its sockets once QEMU
 * is attached (QEMU keeps writing the open file until it exits), an instance keeps its own across boots.
 */
export async function firmwareFor(
  spec: VmSpec,
  binary: string,
  nvramPath: string,
  options: Pick<LaunchOptions, 'firmwareDirs' | 'logger' | 'onProgress'> & { keepExistingNvram?: boolean },
): Promise<ResolvedFirmware | undefined> {
  if (bootFirmware(spec) === undefined) return undefined;
  // Loaded only when there is firmware to find: a direct kernel boot never reads descriptors.
  const { resolveFirmware } = await import('./firmware.js');
  const firmware = await resolveFirmware(spec, {
    binary,
    nvramPath,
    firmwareDirs: options.firmwareDirs,
    keepExistingNvram: options.keepExistingNvram,
  });
  if (firmware?.description) {
    options.logger?.info({ firmware }, 'firmware chosen');
    options.onProgress?.(`firmware: ${firmware.description}`);
  }
  return firmware;
}

/** What a warm image adds to a throwaway boot: argv parts, fds for QEMU, a QMP step before the guest runs. */
export interface WarmBootParts {
  argv?: ((spec: VmSpec) => Pick<ArgvPlan, 'memoryFile' | 'vmgenid' | 'incoming'>) | undefined;
  fds?: BootPlan['fds'];
  onQmp?: BootPlan['onQmp'];
  /** Told the argv plan QEMU was started with (what a warm image records). */
  onPlan?: ((plan: ArgvPlan) => void) | undefined;
}

export interface ThrowawayExtras extends WarmBootParts {
  /** The cloud run dir's agent socket, and what the guest is besides QEMU. */
  guestAgentSocket?: string | undefined;
  forwards?: readonly number[] | undefined;
  cloud?: BootPlan['cloud'];
  /** The guest's confinement opt-outs. */
  confine?: ConfinementChoice | undefined;
  /** The cloud run dir, unless kept: removed by the reaper if the launching process is killed. */
  removeOnDeath?: BootPlan['removeOnDeath'];
  /** The spec's mounts with transports chosen (a cloud guest chooses them before writing its seed). */
  mounts?: readonly ChosenMount[] | undefined;
  /** Run once QEMU has exited, after the guest's own processes are ended (a cloud guest gives its addresses back). */
  onExit?: (() => Promise<void>) | undefined;
  /** A rootfs guest: the file its status port writes to, and how to read the command's exit status from it. */
  status?: { file: string; read: () => Promise<number | undefined> } | undefined;
}

/** Boot `spec` as a throwaway guest: sockets in a fresh private dir that is gone once QEMU is attached. */
export async function startThrowaway(
  asked: VmSpec,
  options: LaunchOptions,
  extras: ThrowawayExtras = {},
): Promise<Guest> {
  const logger = options.logger ?? silentLogger;
  await checkFiles(asked);
  // A bridge QEMU may not join is refused before anything starts; the helper's path goes into the argv.
  const bridges = asked.network.bridges;
  const spec: VmSpec = bridges?.length
    ? { ...asked, network: { ...asked.network, bridges: await checkBridges(bridges) } }
    : asked;
  const mounts = extras.mounts ?? (await chooseMounts(spec.mounts, options.vhostUserDirs));
  const host = await resolveHost(spec, options);
  const runtimeDir = await mkdtemp(join(tmpdir(), 'qlaunch-'));
  // The VNC socket must outlive the runtime dir (gone once QEMU is attached): a dir of its own, gone with QEMU.
  const screenDir = spec.display === 'vnc' ? await mkdtemp(join(tmpdir(), 'qlaunch-screen-')) : undefined;
  const removeScreen =
    screenDir === undefined ? undefined : () => rm(screenDir, { recursive: true, force: true });
  let shares: RunningShares | undefined;
  const qmpSocket = join(runtimeDir, GUEST_FILES.qmp);
  const serialSocket = join(runtimeDir, GUEST_FILES.serial);
  try {
    if (Buffer.byteLength(serialSocket) > MAX_UNIX_PATH_BYTES) {
      throw usage(
        `socket path ${serialSocket} is longer than the OS allows`,
        'set TMPDIR to a shorter directory',
      );
    }
    const firmware = await firmwareFor(spec, host.binary, join(runtimeDir, GUEST_FILES.nvram), options);
    const confinement = await resolveConfinement(host.binary, extras.confine ?? {}, {
      cacheDir: options.cacheDir,
      logger,
      onProgress: options.onProgress,
    });
    await checkShareAccess(mounts, confinement.runAs);
    shares = await startShares(mounts, runtimeDir);
    const argv: ArgvPlan = {
      spec,
      binary: host.binary,
      accel: host.accel,
      qmpSocket,
      serialSocket,
      firmware,
      guestAgentSocket: extras.guestAgentSocket,
      statusFile: extras.status?.file,
      confinement,
      ...(shares.shares.length > 0 ? { shares: shares.shares } : {}),
      ...(screenDir && { vncSocket: join(screenDir, GUEST_FILES.vnc) }),
      ...extras.argv?.(spec),
    };
    extras.onPlan?.(argv);
    return await bootGuest({
      argv,
      mode: { kind: 'attached' },
      fds: extras.fds,
      onQmp: extras.onQmp,
      runtimeDir,
      removeOnDeath: [...(extras.removeOnDeath ?? []), ...(screenDir ? [screenDir] : [])],
      forwards: extras.forwards,
      startTimeout: options.startTimeout,
      cloud: extras.cloud,
      onExit: exitSteps(shares.daemons.length > 0 ? shares.stop : undefined, removeScreen, extras.onExit),
      commandStatus: extras.status?.read,
      logger,
    });
  } catch (error) {
    await shares?.stop();
    await removeScreen?.();
    await rm(runtimeDir, { recursive: true, force: true });
    throw error;
  }
}

/** The steps to run once QEMU is gone, in order; none: nothing to run. */
function exitSteps(...steps: ((() => Promise<void>) | undefined)[]): (() => Promise<void>) | undefined {
  const given = steps.filter((step) => step !== undefined);
  if (given.length === 0) return undefined;
  return async () => {
    for (const step of given) await step();
  };
}
