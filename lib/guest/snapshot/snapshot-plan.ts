// Checking a snapshot request against the running VM before anything changes: tag, nodes, method, deadline, errors.

import { ErrorCode, isQlaunchError, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';
import { jobAborted, jobTimeout } from './qmp-job.js';
import { checkSnapshotTag } from './snapshot-info.js';
import { snapshotNodes, timed } from './snapshot-nodes.js';

/** How the snapshot is taken: `job` = QMP snapshot-save/-load/-delete (QEMU 6.0+), `hmp` = savevm/loadvm/delvm. */
export type SnapshotMethod = 'auto' | 'job' | 'hmp';

export interface SnapshotOptions {
  tag: string;
  /**
   * The block nodes whose images take part: the VM's writable qcow2 disks (qlaunch names them disk0, disk1, …).
   * Default: every writable qcow2 disk attached to the VM. A read-only seed cannot hold snapshots: leave it out.
   */
  nodes?: readonly string[] | undefined;
  /** The node whose image stores the RAM and device state; default the first of `nodes`. */
  vmstateNode?: string | undefined;
  /** For the whole operation, in ms (default 10 min: saving writes all of the guest's RAM). */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * `auto` (default): the QMP jobs when this QEMU has them, else HMP. HMP's savevm/loadvm/delvm act on every
   * writable disk of the VM and put the VM state on the first, whatever `nodes` says.
   */
  method?: SnapshotMethod | undefined;
  /** How often a running job is polled besides its events, in ms (default 1 s). */
  pollInterval?: number | undefined;
}

export interface SaveSnapshotOptions extends SnapshotOptions {
  /** Replace a snapshot with the same tag (deleted first, then saved) instead of refusing. */
  replace?: boolean | undefined;
}

export interface ListSnapshotOptions {
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const LS_HINT = '`snapshot ls` lists the snapshots (listSnapshots() in the library)';

export interface Plan {
  tag: string;
  nodes: string[];
  vmstate: string;
  method: 'job' | 'hmp';
  /** The method was chosen by probing, so a missing job command still falls back to HMP. */
  auto: boolean;
  deadline: number;
  timeout: number;
  signal: AbortSignal | undefined;
  pollInterval: number | undefined;
  /** For messages: "saving snapshot 'base'". */
  what: string;
}

export const snapshotError = (message: string, hint: string, cause?: unknown): QlaunchError =>
  new QlaunchError(ErrorCode.VM_SNAPSHOT, message, { hint, cause });

export function checkTimeout(value: unknown): number {
  if (typeof value === 'number' && value > 0) return value;
  throw snapshotError(
    `Expected the \`timeout\` option to be a positive number of milliseconds, got ${String(value)}`,
    'pass e.g. { timeout: 600_000 }',
  );
}

export async function planFor(qmp: QmpClient, options: SnapshotOptions, verb: string): Promise<Plan> {
  const tag = checkSnapshotTag(options.tag);
  const timeout = checkTimeout(options.timeout ?? DEFAULT_TIMEOUT_MS);
  const deadline = Date.now() + timeout;
  const what = `${verb} snapshot '${tag}'`;
  const base = { deadline, timeout, signal: options.signal, what };
  return guard(base, async () => {
    const nodes = [...(options.nodes ?? (await snapshotNodes(qmp, timed(base))))];
    if (nodes.length === 0) {
      throw snapshotError(
        `${what}: the VM has no writable qcow2 disk to hold it`,
        'internal snapshots live inside qcow2 images: give the VM a writable qcow2 disk (an overlay)',
      );
    }
    if (nodes.some((n) => typeof n !== 'string' || n === '') || new Set(nodes).size !== nodes.length) {
      throw snapshotError(
        `${what}: nodes ${JSON.stringify(nodes)} are not distinct node names`,
        'pass e.g. ["disk0"]',
      );
    }
    const vmstate = options.vmstateNode ?? nodes[0]!;
    if (!nodes.includes(vmstate)) {
      throw snapshotError(
        `${what}: the VM state node ${vmstate} is not one of the snapshot's nodes (${nodes.join(', ')})`,
        'add it to `nodes`, or leave `vmstateNode` out to use the first node',
      );
    }
    const requested = options.method ?? 'auto';
    const method = await chooseMethod(qmp, requested, base);
    return {
      ...base,
      tag,
      nodes,
      vmstate,
      method,
      auto: requested === 'auto',
      pollInterval: options.pollInterval,
    };
  });
}

const jobSupport = new WeakMap<QmpClient, Promise<boolean>>();

/** `job` when this QEMU has snapshot-save (6.0+), asked once per QMP session. */
async function chooseMethod(
  qmp: QmpClient,
  method: SnapshotMethod,
  plan: Pick<Plan, 'deadline' | 'signal'>,
): Promise<'job' | 'hmp'> {
  if (method === 'job' || method === 'hmp') return method;
  if (method !== 'auto') {
    throw snapshotError(
      `Expected the \`method\` option to be auto, job or hmp, got ${String(method)}`,
      'leave it out',
    );
  }
  let probe = jobSupport.get(qmp);
  if (probe === undefined) {
    probe = qmp
      .execute('query-commands', undefined, timed(plan))
      .then((commands) => commands.some((c) => c.name === 'snapshot-save'));
    jobSupport.set(qmp, probe);
    probe.catch(() => jobSupport.delete(qmp));
  }
  return (await probe) ? 'job' : 'hmp';
}

export type ErrorContext = Pick<Plan, 'timeout' | 'signal' | 'what'>;

/** QMP expiry becomes this operation's timeout or abort; anything else not already a VM error becomes VM_SNAPSHOT. */
export function normalize(plan: ErrorContext, error: unknown): QlaunchError {
  if (isQlaunchError(error, ErrorCode.QMP_TIMEOUT)) return jobTimeout(plan.what, plan.timeout);
  if (isQlaunchError(error, ErrorCode.QMP_ABORTED)) return jobAborted(plan.what, plan.signal?.reason);
  if (isQlaunchError(error) && (error.code.startsWith('VM_') || error.code === ErrorCode.QMP_ARGUMENT))
    return error;
  const message = error instanceof Error ? error.message : String(error);
  return snapshotError(`${plan.what} failed: ${message}`, 'check that the VM is still running', error);
}

/** Runs `body`, with its failures normalized for this operation. */
export async function guard<T>(plan: ErrorContext, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw normalize(plan, error);
  }
}
