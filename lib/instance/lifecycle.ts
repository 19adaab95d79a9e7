// `start`: boot an instance detached (or finish a start that was killed half-way), then wait for the readiness
// asked; a guest that is slow or broken is left running for the user to look at, and the error says so.

import { readlink } from 'node:fs/promises';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { lastBootOffset } from '../guest/console/console-log.js';
import { addForward } from '../guest/ports/ports.js';
import type { Logger } from '../logger.js';
import { processStartTicks } from '../process-alive.js';
import type { InstanceReadiness } from './config.js';
import { type RuntimeRecord, readRuntime, removeRuntimeFiles, writeRuntime } from './runtime.js';
import { type InstanceContext, withGuest } from './session.js';
import { bootInstance } from './start.js';
import { instanceStatus } from './state.js';
import { requireNoQemu } from './stop.js';
import { waitInstance } from './wait.js';

export interface StartInstanceOptions {
  /** What "started" means (default: the instance's readiness, e.g. cloud-init for cloud images). */
  wait?: InstanceReadiness | undefined;
  /** Milliseconds for the wait (default 5 min under TCG, 2 under KVM). */
  timeout?: number | undefined;
  /** ms a disk boot may write nothing on its console before VM_NOTHING_TO_BOOT (default 60 s); false: no bound. */
  firstOutputTimeout?: number | false | undefined;
  signal?: AbortSignal | undefined;
  /** Skip probing: this QEMU binary and accelerator (tests, benchmarks). */
  binary?: string | undefined;
  accel?: 'kvm' | 'tcg' | undefined;
  /**
   * Move the instance to the machine type the arch's alias is on this QEMU, when its pinned one is gone (a QEMU
   * upgrade); its internal snapshots were taken on the old type and no longer load.
   */
  repin?: boolean | undefined;
  /** Lines for people: what a confinement opt-out of this instance gives up. */
  onProgress?: ((line: string) => void) | undefined;
}

export interface StartResult {
  /** False when it was already running (then only the wait ran). */
  started: boolean;
  pid: number;
  sshPort?: number | undefined;
  /** Milliseconds from the call to ready. */
  ms: number;
}

type Locked = <T>(doing: string, work: (log: Logger) => Promise<T>) => Promise<T>;

/** Boot `instance` detached (it outlives this process), then wait as asked. Already running: only waits. */
export async function startInstance(
  instance: InstanceContext,
  options: StartInstanceOptions,
  locked: Locked,
): Promise<StartResult> {
  const started = Date.now();
  const { paths, config } = instance;
  const { runtime, consoleOffset, fresh } = await locked('start', async (log) => {
    const status = await instanceStatus(paths);
    if ((status.state === 'running' || status.state === 'paused') && status.pid !== undefined) {
      // Its QEMU runs the old type until it stops: a re-pin takes effect only on a boot.
      if (options.repin) {
        throw new QlaunchError(
          ErrorCode.INSTANCE_RUNNING,
          `instance ${instance.name} is ${status.state}; its machine type is re-pinned only when it boots`,
          {
            hint: `stop it first (\`qlaunch stop ${instance.name}\`), then \`qlaunch start ${instance.name} --repin\``,
          },
        );
      }
      // A start killed half-way left QEMU paused before `cont`, maybe without its record or SSH forward: finish it.
      const record = await finishStart(instance, status.pid, status.qemuStatus === 'prelaunch', log);
      return { runtime: record, consoleOffset: await lastBootOffset(paths.console), fresh: false };
    }
    // A QEMU on the instance that no record names would share its disk with a second one: refused.
    await requireNoQemu(paths, { name: instance.name, doing: 'start' });
    // Whatever a crash or a killed command left is evidence already read, never reused.
    await removeRuntimeFiles(paths);
    const { config: after, ...boot } = await bootInstance(config, paths, {
      logger: log,
      binary: options.binary,
      accel: options.accel,
      repin: options.repin,
      onProgress: options.onProgress,
    });
    // A first pin, a re-pin or a first restore was written to the config: this handle's copy follows it.
    config.machineType = after.machineType;
    config.warm = after.warm;
    return { ...boot, fresh: true };
  });
  try {
    await waitInstance(config, paths, runtime, consoleOffset, options.wait ?? config.readiness, {
      timeout: options.timeout,
      firstOutputTimeout: options.firstOutputTimeout,
      signal: options.signal,
    });
  } catch (error) {
    // A guest that is slow or broken is left running for the user to look at: say so, and how to end it.
    if (!isQlaunchError(error) || !(await instanceStatus(paths)).pid) throw error;
    const running = `it is still running: \`qlaunch logs ${instance.name}\` shows its console, \`qlaunch stop ${instance.name}\` stops it`;
    // A timeout's hint is generic; any other failure's hint names its own fix, which comes first.
    const fix = error.code === ErrorCode.VM_TIMEOUT ? undefined : error.hint;
    throw new QlaunchError(
      error.code,
      `instance ${instance.name} started but is not ready: ${error.message}`,
      {
        hint: fix ? `${fix}; ${running}` : running,
        cause: error,
      },
    );
  }
  return { started: fresh, pid: runtime.pid, sshPort: runtime.sshPort, ms: Date.now() - started };
}

/** The runtime record of running QEMU `pid`, rebuilt from QEMU itself if a killed start never wrote it. */
async function finishStart(
  instance: InstanceContext,
  pid: number,
  prelaunch: boolean,
  log: Logger,
): Promise<RuntimeRecord> {
  const { paths, config } = instance;
  return withGuest(instance, 'finish starting', log, async (guest) => {
    let record = await readRuntime(paths.runtime);
    if (!record) {
      const kvm = await guest.qmp.execute('query-kvm');
      record = {
        pid,
        startTicks: await processStartTicks(pid),
        startedAt: new Date().toISOString(),
        binary: await readlink(`/proc/${pid}/exe`).catch(() => 'qemu'),
        accel: kvm.enabled ? 'kvm' : 'tcg',
      };
      log.warn({ runtime: record }, 'rebuilt the runtime record of an interrupted start');
    }
    if (config.seed && record.sshPort === undefined)
      record.sshPort = (await addForward(guest.qmp, 22)).hostPort;
    await writeRuntime(paths.runtime, record);
    if (prelaunch) await guest.qmp.execute('cont');
    return record;
  });
}
