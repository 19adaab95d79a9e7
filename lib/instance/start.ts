// `start`: boot an instance's QEMU detached through the one boot path, connected just long enough to resume it and
// forward SSH; a start that fails leaves no QEMU and no runtime files behind.

import { closeSync, openSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { cloudDisks } from '../cloud/recipe.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { bootGuest } from '../guest/boot.js';
import { resolveConfinement } from '../guest/confinement.js';
import { bootLine, fileSize } from '../guest/console/console-log.js';
import { tailFile } from '../guest/console/tail.js';
import { resolveHost } from '../guest/host-choice.js';
import { firmwareFor } from '../guest/launch.js';
import {
  type ChosenMount,
  checkShareAccess,
  chooseMounts,
  type RunningShares,
  startShares,
} from '../guest/shares.js';
import { machineCatalog } from '../host/machine-cache.js';
import { checkDiskHeader } from '../image/disk-check.js';
import type { Logger } from '../logger.js';
import { normalizeSpec, type VmSpec } from '../machine/spec.js';
import { checkBridges } from '../network/bridge-check.js';
import { processStartTicks } from '../process-alive.js';
import type { ArgvPlan, ResolvedFirmware } from '../qemu/argv.js';
import type { Confinement } from '../qemu/confinement.js';
import { type InstanceConfig, writeInstanceConfig } from './config.js';
import { attachTaps, detachTaps } from './host-taps.js';
import { checkSocketPaths, type InstancePaths } from './layout.js';
import { choosePin, type MachinePin, pinChanged } from './machine-pin.js';
import { type RuntimeRecord, removeRuntimeFiles, writeRuntime } from './runtime.js';
import { readWarmSource } from './warm.js';

export interface BootOptions {
  logger: Logger;
  /** How long QEMU gets to open QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing (tests, benchmarks): this binary and accelerator. */
  binary?: string | undefined;
  accel?: 'kvm' | 'tcg' | undefined;
  /** Move the machine type to what the arch's alias is on this QEMU (internal snapshots then no longer load). */
  repin?: boolean | undefined;
  /** Where the cost of a confinement opt-out is told. */
  onProgress?: ((line: string) => void) | undefined;
}

/** The VM spec an instance boots with (pure): its disks, NICs and kernel as `create` recorded them. */
export function instanceSpec(config: InstanceConfig, paths: InstancePaths): VmSpec {
  return normalizeSpec({
    name: config.name,
    arch: config.arch,
    cpus: config.cpus,
    memory: config.memoryMiB,
    accel: config.accel,
    machineType: config.machineType?.name,
    kernel: config.kernel,
    initrd: config.initrd,
    append: config.append,
    firmware: config.firmware,
    // `create` makes the overlay and the seed together, for an image; a kernel-only machine has neither.
    disks: config.disk ? cloudDisks(paths.dir) : [],
    network: {
      user: true,
      forwards: config.ports,
      mac: config.mac,
      // The address is the guest's business (its seed sets it); QEMU needs only the segment and the MAC.
      private: config.networks.map(({ name, mac }) => ({ name, mac })),
      bridges: config.bridges,
    },
    mounts: config.mounts?.map(({ host, guest, writable, type }) => ({ host, guest, writable, type })),
    display: config.display,
  });
}

/** `spec` with its bridged NICs checked usable (the bridge may be gone since create) and the helper's path. */
async function withBridgeHelper(spec: VmSpec): Promise<VmSpec> {
  const bridges = spec.network.bridges;
  if (!bridges?.length) return spec;
  return { ...spec, network: { ...spec.network, bridges: await checkBridges(bridges) } };
}

/** What an instance's QEMU is started with (pure): its spec, and every socket, log and pidfile in its directory. */
export const instanceArgvPlan = (
  spec: VmSpec,
  paths: InstancePaths,
  host: Pick<ArgvPlan, 'binary' | 'accel'>,
  firmware: ResolvedFirmware | undefined,
  confinement?: Confinement | undefined,
): ArgvPlan => ({
  spec,
  binary: host.binary,
  accel: host.accel,
  firmware,
  qmpSocket: paths.qmp,
  serialSocket: paths.serial,
  serialLog: paths.console,
  guestAgentSocket: paths.guestAgent,
  pidFile: paths.pid,
  confinement,
  ...(spec.display === 'vnc' && { vncSocket: paths.vnc }),
});

/**
 * The machine type this start uses, checked against what `binary` offers before QEMU is asked to boot it; a first
 * pin (a config from before pinning) or a re-pin is written to the config (caller holds the lock).
 */
async function pinForStart(
  config: InstanceConfig,
  paths: InstancePaths,
  binary: string,
  options: BootOptions,
): Promise<MachinePin | undefined> {
  const catalog = await machineCatalog(binary);
  // A QEMU that cannot list its machines cannot be checked: it boots what is recorded and says what is wrong itself.
  if (!catalog) return config.machineType;
  const pin = choosePin(
    { instance: config.name, arch: config.arch, pinned: config.machineType, repin: options.repin },
    catalog,
  );
  if (pinChanged(config.machineType, pin)) {
    await writeInstanceConfig(paths.config, { ...config, machineType: pin });
    options.logger.info({ from: config.machineType, to: pin }, 'machine type pinned');
  }
  return pin;
}

/**
 * The base disk as it is now, through the inspector `image import` uses: an instance made before that check, or
 * whose base was swapped since (a qcow2 naming a backing or data file, a vmdk), must not reach QEMU.
 */
async function checkBaseDisk(config: InstanceConfig): Promise<void> {
  if (!config.base) return;
  const { path, format } = config.base;
  const hint = `put the original image back, or remove the instance (qlaunch rm ${config.name}) and create it again from a good one`;
  let found: string;
  try {
    found = await checkDiskHeader(path);
  } catch (error) {
    if (!isQlaunchError(error)) throw error;
    throw new QlaunchError(
      error.code,
      `instance ${config.name} was not started: its base disk ${error.message}`,
      {
        hint: error.hint ? `${error.hint}; or ${hint}` : hint,
        cause: error,
      },
    );
  }
  if (found !== format) {
    throw new QlaunchError(
      ErrorCode.IMAGE_INVALID,
      `instance ${config.name} was not started: its base disk ${path} is ${found} now, but was ${format} when the instance was created`,
      { hint },
    );
  }
}

/**
 * Boot the instance's QEMU detached through the one boot path (caller holds the lock; the instance is stopped and
 * its runtime files gone), with the SSH forward, and hand it over. An instance made from a warm image and not yet
 * restored loads the saved machine instead, and is marked restored before it runs. Returns the runtime record, the
 * console-log offset this boot starts at, and the config as this start left it.
 */
export async function bootInstance(
  config: InstanceConfig,
  paths: InstancePaths,
  options: BootOptions,
): Promise<{ runtime: RuntimeRecord; consoleOffset: number; config: InstanceConfig }> {
  const { logger } = options;
  // The home may have moved since create (a longer path): the sockets must still fit.
  checkSocketPaths(paths);
  const warm = config.warm ? await readWarmSource(config) : undefined;
  if (!warm) await checkBaseDisk(config);
  const restoring = warm !== undefined && config.warm?.restored === false;
  const host = restoring
    ? await warm.checkHost(options.binary)
    : await resolveHost(instanceSpec(config, paths), {
        binary: options.binary,
        accel: options.accel ? { accel: options.accel } : undefined,
      });
  const machineType = await pinForStart(config, paths, host.binary, options);
  let current: InstanceConfig = { ...config, machineType };
  const restore = restoring ? warm.start(current, paths) : undefined;
  const spec = restore?.spec ?? instanceSpec(current, paths);
  // Firmware is found once per start; an instance keeps its own UEFI variable store across boots.
  const firmware = await firmwareFor(spec, host.binary, paths.nvram, { logger, keepExistingNvram: true });
  const confinement = await resolveConfinement(
    host.binary,
    { sandbox: config.sandbox, runAsRoot: config.runAsRoot },
    { logger, onProgress: options.onProgress },
  );
  // Each mount on the transport its guest's fstab names; its directory must still be there.
  const mounts = await chooseMounts(
    spec.mounts,
    undefined,
    config.mounts?.map((m) => m.transport),
  );
  await checkShareAccess(mounts, confinement.runAs);
  // Taps last before the boot: the catch below removes them with the rest if it fails.
  const bridged = await withBridgeHelper(spec);
  const tapped = await attachTaps(bridged, current, paths, confinement);
  const argv = { ...instanceArgvPlan(tapped, paths, host, firmware, confinement), ...restore?.argv };
  try {
    restore?.check(argv);
  } catch (error) {
    await detachTaps(current, paths);
    throw error;
  }
  await appendFile(paths.console, bootLine(new Date()), { mode: 0o600 });
  const consoleOffset = await fileSize(paths.console);
  const qemuLogOffset = await fileSize(paths.qemuLog);
  let runtime: RuntimeRecord | undefined;
  let shares: RunningShares | undefined;
  try {
    shares = await startInstanceShares(mounts, paths);
    const stateFd = restore?.open();
    const guest = await bootGuest({
      argv: { ...argv, ...(shares.shares.length > 0 && { shares: shares.shares }) },
      mode: { kind: 'detached', logFile: paths.qemuLog },
      forwards: config.seed ? [22] : [],
      startTimeout: options.startTimeout,
      what: `instance ${config.name}`,
      logger,
      fds: stateFd === undefined ? undefined : [stateFd],
      onQmp:
        restore &&
        (async (qmp) => {
          await restore.load(qmp);
          // Marked before the guest runs: from here its disk moves on, and the saved RAM no longer matches it.
          current = { ...current, warm: current.warm && { ...current.warm, restored: true } };
          await writeInstanceConfig(paths.config, current);
        }),
      onSpawned: async (qemu) => {
        restore?.close();
        runtime = {
          pid: qemu.pid,
          startTicks: await processStartTicks(qemu.pid),
          startedAt: new Date().toISOString(),
          binary: host.binary,
          accel: host.accel.accel,
          ...(confinement.runAs !== undefined && { runAs: confinement.runAs, qemuLogOffset }),
        };
        await writeRuntime(paths.runtime, runtime);
      },
      onForwards: async ([ssh]) => {
        if (!runtime || !ssh) return;
        runtime.sshPort = ssh.hostPort;
        await writeRuntime(paths.runtime, runtime);
      },
      qemuSaid: async () => (await tailFile(paths.qemuLog, qemuLogOffset)).trim(),
    });
    guest.detach();
    if (!runtime) throw new Error('QEMU started without a runtime record');
    logger.info({ runtime, restored: restore !== undefined }, 'instance started');
  } catch (error) {
    restore?.close();
    await shares?.stop();
    await removeRuntimeFiles(paths);
    await detachTaps(current, paths);
    throw error;
  }
  if (restore) await warm?.confirm(paths, runtime.sshPort);
  return { runtime, consoleOffset, config: current };
}

/** virtiofsd for each virtiofs mount, outliving this command (it exits when QEMU does), its output in a log. */
async function startInstanceShares(
  mounts: readonly ChosenMount[],
  paths: InstancePaths,
): Promise<RunningShares> {
  if (!mounts.some((m) => m.transport === 'virtiofs')) return startShares(mounts, paths.dir);
  const log = openSync(paths.virtiofsdLog, 'a', 0o600);
  try {
    return await startShares(mounts, paths.dir, log);
  } finally {
    closeSync(log);
  }
}
