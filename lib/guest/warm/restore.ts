// restoreWarm(): a clone of a warm image — a fresh overlay on its layer, RAM mapped copy-on-write from its file, device
// state loaded from an fd — running as the same `Guest` launch() returns, its clock stepped, its agent answering.

import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { GUEST_FILES } from '../../files.js';
import { machineCatalog } from '../../host/machine-cache.js';
import { createOverlay } from '../../image/qemu-img.js';
import { type Logger, silentLogger } from '../../logger.js';
import type { VmSpec } from '../../machine/spec.js';
import type { ArgvPlan } from '../../qemu/argv.js';
import type { ConfinementChoice } from '../../qemu/confinement.js';
import { GuestAgent } from '../../qga/index.js';
import { sshClient } from '../access/ssh.js';
import { sshBanner } from '../access/ssh-banner.js';
import { controlPathFits, openSshMaster } from '../access/ssh-master.js';
import type { CloudGuest, CloudParts } from '../guest.js';
import { resolveHost } from '../host-choice.js';
import type { LaunchOptions } from '../launch-options.js';
import { createRunDir } from '../run-dir.js';
import { startThrowaway } from '../throwaway.js';
import { checkWarmCompat } from './compat.js';
import { WARM_FILES } from './files.js';
import { loadDeviceState } from './migrate.js';
import { cpuModelOf, deviceList, parseWarmRecord, type WarmRecord, warmLayerPath } from './record.js';

export interface RestoreOptions
  extends Pick<
      LaunchOptions,
      'logger' | 'startTimeout' | 'binary' | 'cacheDir' | 'readyTimeout' | 'keep' | 'onProgress'
    >,
    ConfinementChoice {
  /** Guest ports to forward, each from a free 127.0.0.1 port (22 always is). */
  ports?: readonly number[] | undefined;
  /**
   * Log in over SSH while the agent steps the clock, and keep that connection: the clone's SSH commands ride it
   * (no handshake of their own). By default readiness is sshd's greeting, which costs the guest less.
   */
  ssh?: boolean | undefined;
}

// The state stream's fd in QEMU: the first one after stdin, stdout and stderr.
export const STATE_FD = 3;
const DEFAULT_AGENT_TIMEOUT_MS = 60_000;

/** The record of the warm image in `dir`, checked. */
export async function readWarmRecord(dir: string): Promise<WarmRecord> {
  const text = await readFile(join(dir, WARM_FILES.record), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new QlaunchError(ErrorCode.WARM_INVALID, `${dir} is not a warm image (${error.code})`, {
      hint: 'give the directory warmImage() wrote',
    });
  });
  return parseWarmRecord(text, join(dir, WARM_FILES.record));
}

/** Refuses (WARM_INCOMPATIBLE) before anything starts when this host cannot load the record's state. */
export async function checkWarmHost(
  record: WarmRecord,
  dir: string,
  options: Pick<RestoreOptions, 'binary' | 'cacheDir'>,
) {
  const host = await resolveHost(record.spec, { binary: options.binary, cacheDir: options.cacheDir });
  // The cached catalog of this QEMU build: a restore spawns no QEMU to learn its version and machine types.
  const catalog = await machineCatalog(host.binary, { cacheDir: options.cacheDir });
  if (!catalog) {
    throw new QlaunchError(
      ErrorCode.WARM_INCOMPATIBLE,
      `${host.binary} did not say its version and machine types: warm image ${dir} cannot be checked against it`,
      { hint: `check that ${host.binary} -version and -machine help work` },
    );
  }
  checkWarmCompat(
    record,
    {
      qemuVersion: catalog.qemuVersion,
      accel: host.accel.accel,
      cpuModel: cpuModelOf(record.arch, host.accel),
      machines: catalog.machines,
    },
    dir,
  );
  return host;
}

/** The saved spec with this clone's disks: its own overlay, and the image's seed (or a copy of it). */
export function cloneSpec(
  record: WarmRecord,
  dir: string,
  overlay: string,
  seedPath = join(dir, WARM_FILES.seed),
): VmSpec {
  const [root, seed, ...rest] = record.spec.disks;
  if (!root || !seed || rest.length > 0) {
    throw new QlaunchError(ErrorCode.WARM_INVALID, `warm image ${dir} does not have a root disk and a seed`, {
      hint: 'warm it again',
    });
  }
  return {
    ...record.spec,
    // The versioned type it was saved on, never an alias that may move with the QEMU version.
    machineType: record.machineType,
    disks: [
      { ...root, path: overlay },
      { ...seed, path: seedPath },
    ],
  };
}

/** The argv parts of a restore: the RAM file mapped copy-on-write, a fresh generation ID, and `-incoming defer`. */
export const restoreArgv = (record: WarmRecord, dir: string) => ({
  memoryFile: { path: join(dir, WARM_FILES.ram), share: false },
  // Not part of the migrated state: the clone's own GUID reaches the guest when the device state loads.
  vmgenid: record.vmgenid ? randomUUID() : undefined,
  incoming: true,
});

/** Refuses (WARM_INCOMPATIBLE) a QEMU command line whose devices are not the ones the state was saved from. */
export function checkWarmDevices(plan: ArgvPlan, record: WarmRecord, dir: string): void {
  if (!isDeepStrictEqual(deviceList(plan, record.machineType), record.devices)) {
    throw new QlaunchError(
      ErrorCode.WARM_INCOMPATIBLE,
      `warm image ${dir} was saved with other devices than this qlaunch would give it`,
      { hint: 'warm it again with this version of qlaunch' },
    );
  }
}

/**
 * Start a clone of the warm image in `dir`; resolves once its agent answers, its clock is stepped and sshd greets
 * (with `ssh`, once a login has succeeded and its connection is kept for the clone's SSH commands).
 */
export async function restoreWarm(dir: string, options: RestoreOptions = {}): Promise<CloudGuest> {
  const logger: Logger = options.logger ?? silentLogger;
  const started = performance.now();
  // Each step's milliseconds from the start, logged at the end: where a clone's second goes.
  const steps: Record<string, number> = {};
  const step = (name: string) => {
    steps[name] = Math.round(performance.now() - started);
  };
  const record = await readWarmRecord(dir);
  const host = await checkWarmHost(record, dir, options);
  options.onProgress?.(
    `restoring ${basename(dir)} (${record.arch}, ${record.cpus} vCPU, ${record.memoryMiB} MiB, saved ${record.saved})`,
  );
  const runDir = await createRunDir();
  const keep = options.keep ?? false;
  let stateFd: number | undefined;
  try {
    step('checked');
    const overlay = join(runDir, GUEST_FILES.overlay);
    const knownHosts = join(runDir, GUEST_FILES.knownHosts);
    // A run dir under a TMPDIR too long for a socket path: commands connect on their own.
    const controlPath = join(runDir, GUEST_FILES.sshControl);
    const shared = options.ssh === true && controlPathFits(controlPath);
    await createOverlay(warmLayerPath(record, dir), 'qcow2', overlay, { ownLayer: true });
    stateFd = openSync(join(dir, WARM_FILES.state), 'r');
    const fd = stateFd;
    const spec = cloneSpec(record, dir, overlay);
    const guest = (await startThrowaway(
      spec,
      {
        logger,
        startTimeout: options.startTimeout,
        binary: host.binary,
        accel: host.accel,
        cacheDir: options.cacheDir,
      },
      {
        argv: () => restoreArgv(record, dir),
        onPlan: (plan) => checkWarmDevices(plan, record, dir),
        confine: { sandbox: options.sandbox, runAsRoot: options.runAsRoot },
        fds: [fd],
        onQmp: async (qmp) => {
          step('qmp');
          await loadDeviceState(qmp, STATE_FD);
          step('loaded');
        },
        guestAgentSocket: join(runDir, GUEST_FILES.guestAgent),
        removeOnDeath: keep ? [] : [runDir],
        forwards: [...new Set([22, ...(record.ports ?? []), ...(options.ports ?? [])])],
        cloud: ([ssh]): CloudParts => ({
          ssh: sshClient({
            host: ssh?.hostAddress ?? '127.0.0.1',
            port: ssh?.hostPort ?? 0,
            user: record.ssh.user,
            privateKey: join(dir, record.ssh.key),
            knownHostsFile: knownHosts,
            controlPath: shared ? controlPath : undefined,
          }),
          machine: record.machine,
          dir: runDir,
          keep,
          readyTimeout: options.readyTimeout,
        }),
      },
    )) as CloudGuest;
    closeSync(fd);
    step('running');
    stateFd = undefined;
    // The guest's host keys, pinned at this clone's forward: SSH trusts nothing else there.
    const { host: sshHost, port } = guest.ssh.target;
    const pinned = record.ssh.hostKeys.map((key) => `[${sshHost}]:${port} ${key}\n`).join('');
    await writeFile(knownHosts, pinned, { mode: 0o600 });
    try {
      // Both at once: sshd came back with the guest, and its greeting (or a login) through this clone's own
      // forward proves the path works while the agent steps the clock.
      await confirmClone(
        { agentSocket: join(runDir, GUEST_FILES.guestAgent), sshHost, sshPort: port },
        options.readyTimeout,
        step,
        shared ? (bound) => shareSsh(guest, bound) : undefined,
      );
    } catch (error) {
      await guest.kill();
      throw new QlaunchError(
        ErrorCode.WARM_RESTORE_FAILED,
        `the clone of ${dir} did not answer: ${(error as Error).message}`,
        {
          hint: 'warm it again; if it keeps failing, check that qemu-guest-agent runs in the image',
          cause: error,
        },
      );
    }
    logger.info({ warm: dir, ms: steps }, 'clone ready');
    return guest;
  } catch (error) {
    if (stateFd !== undefined) closeSync(stateFd);
    if (!keep) await rm(runDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A restored guest, verified rather than assumed ready: its agent steps the clock while sshd's greeting comes back
 * through the forward — both at once, since each proves a different path.
 */
export async function confirmClone(
  at: { agentSocket: string; sshHost: string; sshPort: number },
  timeout: number | undefined,
  step: (name: string) => void = () => {},
  login?: (timeout: number) => Promise<void>,
): Promise<void> {
  const bound = timeout ?? DEFAULT_AGENT_TIMEOUT_MS;
  await Promise.all([
    stepClockAndPing(at.agentSocket, timeout, step).then(() => step('clock')),
    login
      ? login(bound).then(() => step('ssh login'))
      : sshBanner(at.sshHost, at.sshPort, bound).then(() => step('sshd')),
  ]);
}

/** The clone's master connection, up until the guest is gone (QEMU's end closes it anyway). */
async function shareSsh(guest: CloudGuest, timeout: number): Promise<void> {
  const master = await openSshMaster(guest.ssh.target, timeout);
  void guest.exited.finally(() => master.close());
}

/** The guest's clock stood still while it was saved: step it to the host's, which also proves the agent answers. */
async function stepClockAndPing(
  socket: string,
  timeout: number | undefined,
  step: (name: string) => void,
): Promise<void> {
  timeout ??= DEFAULT_AGENT_TIMEOUT_MS;
  // Whether the first sync after a restore is lost is up to the guest's port: ask again soon, not in 1 s.
  const agent = await GuestAgent.connect(socket, { timeout, syncRetry: 100 });
  step('agent');
  try {
    // The guest's clock runs again from where it was saved: measure how far behind it is (guest-get-time needs
    // no process), then have `date` step it by that much from its own reading, in one process, so however long
    // spawning it takes under load does not count. `date -s` sets the system clock alone; guest-set-time also
    // writes the RTC with `hwclock -w`, which waits for the next second edge (~1 s a clone).
    const behindNs = await hostMinusGuestNs(agent, timeout);
    const stepped = await agent.exec(clockStepArgv(behindNs), { timeout }).catch(() => undefined);
    if (stepped?.exitCode !== 0) {
      // Nanoseconds since the epoch; a double is exact to 256 ns here, far below what a clock step can tell.
      await agent.execute('guest-set-time', { time: Date.now() * 1e6 }, { timeout });
    }
  } finally {
    await agent.close();
  }
}

/**
 * How far the guest's clock is behind the host's, in whole nanoseconds: of three readings, the one with the shortest
 * round trip, taken at its midpoint (a busy host can hold one answer back; the error is at most half the trip).
 */
async function hostMinusGuestNs(agent: GuestAgent, timeout: number): Promise<bigint> {
  let best = { trip: Number.POSITIVE_INFINITY, offsetNs: 0 };
  for (let i = 0; i < 3; i++) {
    const sent = performance.now();
    const guestNs = Number(await agent.execute('guest-get-time', undefined, { timeout }));
    const trip = performance.now() - sent;
    if (trip < best.trip) best = { trip, offsetNs: (Date.now() - trip / 2) * 1e6 - guestNs };
  }
  return BigInt(Math.round(best.offsetNs));
}

/** `date` stepping the clock by `ns` from its own reading (GNU date's relative time; others fail, and fall back). */
export function clockStepArgv(ns: bigint): string[] {
  const size = ns < 0n ? -ns : ns;
  const fraction = (size % 1_000_000_000n).toString().padStart(9, '0');
  return ['date', '-u', '-s', `${ns < 0n ? '-' : '+'}${size / 1_000_000_000n}.${fraction} seconds`];
}
