// An instance's state, from evidence rather than trust: the runtime record, QEMU's pidfile, /proc, and QMP.

import { access } from 'node:fs/promises';
import { tailFile } from '../guest/console/tail.js';
import { SHUTDOWN_LOGGED } from '../qemu/confinement.js';
import { QmpClient } from '../qmp/index.js';
import type { InstancePaths } from './layout.js';
import { isInstanceQemu, type RuntimeRecord, readPidFile, readRuntime } from './runtime.js';

export type InstanceState = 'running' | 'paused' | 'stopped' | 'crashed';

export interface StateEvidence {
  runtime?: RuntimeRecord | undefined;
  /** QEMU writes its pidfile at start and removes it on a clean exit: left behind, it means QEMU died. */
  pidFile: boolean;
  /** The pid that is alive and really this instance's QEMU, if any. */
  livePid?: number | undefined;
  /** QMP `query-status` status, or undefined when QMP did not answer. */
  qmpStatus?: string | undefined;
  /** A QEMU run as another user logged that it was asked to shut down (its pidfile stays either way). */
  shutdownLogged?: boolean | undefined;
}

export interface InstanceStatus {
  state: InstanceState;
  pid?: number | undefined;
  /** QEMU's own run state (`running`, `paused`, `prelaunch`, …) when QMP answered. */
  qemuStatus?: string | undefined;
  /** Why the state is what it is, for people. */
  detail: string;
}

/** Judge the state from the evidence (pure). */
export function judgeState(evidence: StateEvidence): InstanceStatus {
  const { livePid, qmpStatus } = evidence;
  if (livePid !== undefined) {
    if (qmpStatus === undefined) {
      return { state: 'running', pid: livePid, detail: 'QEMU is running but QMP did not answer' };
    }
    const state = qmpStatus === 'running' ? 'running' : 'paused';
    return { state, pid: livePid, qemuStatus: qmpStatus, detail: `QEMU reports ${qmpStatus}` };
  }
  if (evidence.pidFile && evidence.shutdownLogged) {
    const user = evidence.runtime?.runAs ?? 'another user';
    return { state: 'stopped', detail: `QEMU shut down (as ${user} it cannot remove its pidfile)` };
  }
  if (evidence.pidFile) {
    return { state: 'crashed', detail: 'QEMU is gone without a clean stop (its pidfile was left behind)' };
  }
  if (evidence.runtime) return { state: 'stopped', detail: 'the guest powered itself off' };
  return { state: 'stopped', detail: 'not running' };
}

const QMP_STATUS_TIMEOUT_MS = 3000;

/** `query-status` over the instance's QMP socket; undefined when it does not answer in time. */
export async function queryStatus(paths: InstancePaths): Promise<string | undefined> {
  const qmp = new QmpClient({ connectTimeout: QMP_STATUS_TIMEOUT_MS, commandTimeout: QMP_STATUS_TIMEOUT_MS });
  try {
    await qmp.connect(paths.qmp);
    return (await qmp.execute('query-status')).status;
  } catch {
    return undefined;
  } finally {
    qmp.destroy();
  }
}

/** The pid of the instance's QEMU if one is alive (from the runtime record and QEMU's pidfile), with the record. */
export async function liveQemu(paths: InstancePaths): Promise<StateEvidence> {
  const runtime = await readRuntime(paths.runtime);
  const pidFromFile = await readPidFile(paths.pid);
  const pidFile = await access(paths.pid).then(
    () => true,
    () => false,
  );
  let livePid: number | undefined;
  for (const pid of new Set([runtime?.pid, pidFromFile])) {
    if (pid === undefined) continue;
    const ticks = pid === runtime?.pid ? runtime.startTicks : undefined;
    if (await isInstanceQemu(pid, paths, ticks)) livePid = pid;
  }
  const shutdownLogged =
    pidFile && livePid === undefined && runtime?.runAs !== undefined
      ? SHUTDOWN_LOGGED.test(await tailFile(paths.qemuLog, runtime.qemuLogOffset ?? 0))
      : undefined;
  return { runtime, pidFile, livePid, shutdownLogged };
}

/**
 * Gather the evidence for an instance and judge it; QEMU's own status is asked over `qmpStatus` when given (a
 * command's one QMP session), else over a session of its own.
 */
export async function instanceStatus(
  paths: InstancePaths,
  qmpStatus: () => Promise<string | undefined> = () => queryStatus(paths),
): Promise<InstanceStatus> {
  const evidence = await liveQemu(paths);
  const status = evidence.livePid === undefined ? undefined : await qmpStatus();
  return judgeState({ ...evidence, qmpStatus: status });
}
