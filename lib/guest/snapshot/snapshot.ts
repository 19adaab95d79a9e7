// Internal qcow2 snapshots of a running guest over QMP: save, load, delete, list; HMP savevm/loadvm/delvm on old QEMU.

import { ErrorCode, QlaunchError } from '../../errors.js';
import { type QmpClient, QmpCommandError } from '../../qmp/index.js';
import { runQmpJob } from './qmp-job.js';
import { hmpFailure, hmpQuote, type SnapshotInfo } from './snapshot-info.js';
import { findSnapshot as find, nodesWith, readSnapshots, timed } from './snapshot-nodes.js';
import {
  checkTimeout,
  guard,
  type ListSnapshotOptions,
  LS_HINT,
  normalize,
  type Plan,
  planFor,
  type SaveSnapshotOptions,
  type SnapshotOptions,
  snapshotError,
} from './snapshot-plan.js';

export type { SnapshotInfo } from './snapshot-info.js';
export { snapshotNodes } from './snapshot-nodes.js';
export type {
  ListSnapshotOptions,
  SaveSnapshotOptions,
  SnapshotOptions,
} from './snapshot-plan.js';

/** The snapshots of one block node (`disk0`, …) of a running VM, oldest first. */
export async function listSnapshots(
  qmp: QmpClient,
  node: string,
  options: ListSnapshotOptions = {},
): Promise<SnapshotInfo[]> {
  const timeout = checkTimeout(options.timeout ?? 60_000);
  const plan = {
    deadline: Date.now() + timeout,
    timeout,
    signal: options.signal,
    what: `listing snapshots of ${node}`,
  };
  return guard(plan, async () => (await readSnapshots(qmp, [node], plan)).get(node) ?? []);
}

/** Saves the guest's RAM, devices and disks under `tag`; the guest pauses while its RAM is written, then runs on. */
export async function saveSnapshot(qmp: QmpClient, options: SaveSnapshotOptions): Promise<SnapshotInfo> {
  const plan = await planFor(qmp, options, 'saving');
  return guard(plan, async () => {
    const holders = nodesWith(await readSnapshots(qmp, plan.nodes, plan, true), plan.tag);
    if (holders.length > 0 && !options.replace) {
      throw new QlaunchError(
        ErrorCode.VM_SNAPSHOT_EXISTS,
        `snapshot '${plan.tag}' already exists on ${holders.join(', ')}`,
        { hint: 'choose another tag, delete the old snapshot first (`snapshot rm`), or ask to replace it' },
      );
    }
    // savevm replaces a snapshot of the same name by itself; the jobs do not.
    await perform(
      qmp,
      plan,
      async () => {
        if (holders.length > 0) {
          const run = { ...plan, what: `deleting the old snapshot '${plan.tag}'` };
          await runQmpJob(qmp, 'snapshot-delete', { tag: plan.tag, devices: holders }, run);
        }
        await runQmpJob(
          qmp,
          'snapshot-save',
          { tag: plan.tag, vmstate: plan.vmstate, devices: plan.nodes },
          plan,
        );
      },
      `savevm ${hmpQuote(plan.tag)}`,
    );
    const after = await readSnapshots(qmp, plan.nodes, plan);
    const missing = plan.nodes.filter((node) => !nodesWith(after, plan.tag).includes(node));
    if (missing.length > 0) {
      throw snapshotError(
        `${plan.what}: QEMU reported success but ${missing.join(', ')} holds no snapshot '${plan.tag}'`,
        'check the disks with `snapshot ls`; with HMP savevm, every writable disk of the VM takes part',
      );
    }
    return find(after, plan.vmstate, plan.tag)!;
  });
}

/**
 * Puts the guest back to the state saved under `tag` (RAM, devices, disks). A guest that ran keeps running; one
 * that was paused stays paused. If QEMU fails part-way it leaves the VM paused, and the error says so.
 */
export async function loadSnapshot(qmp: QmpClient, options: SnapshotOptions): Promise<SnapshotInfo> {
  const plan = await planFor(qmp, options, 'loading');
  return guard(plan, async () => {
    const snapshots = await readSnapshots(qmp, plan.nodes, plan);
    const lacking = plan.nodes.filter((node) => find(snapshots, node, plan.tag) === undefined);
    if (lacking.length > 0) throw notFound(plan.tag, lacking);
    const snapshot = find(snapshots, plan.vmstate, plan.tag)!;
    if (snapshot.vmStateSize === 0) {
      throw snapshotError(
        `snapshot '${plan.tag}' on ${plan.vmstate} is disk-only (no RAM state): a running VM cannot load it`,
        'stop the VM and revert its disk offline (loadSnapshotOffline with diskOnly), or save a snapshot while it runs',
      );
    }
    const wasRunning = (await qmp.execute('query-status', undefined, timed(plan))).running;
    try {
      const args = { tag: plan.tag, vmstate: plan.vmstate, devices: plan.nodes };
      await perform(
        qmp,
        plan,
        () => runQmpJob(qmp, 'snapshot-load', args, plan),
        `loadvm ${hmpQuote(plan.tag)}`,
      );
    } catch (error) {
      throw await withPausedNote(qmp, normalize(plan, error), wasRunning);
    }
    return snapshot;
  });
}

/** Deletes the snapshot `tag` from every node of `nodes` that has it; a tag on none of them is an error. */
export async function deleteSnapshot(qmp: QmpClient, options: SnapshotOptions): Promise<void> {
  const plan = await planFor(qmp, options, 'deleting');
  await guard(plan, async () => {
    const holders = nodesWith(await readSnapshots(qmp, plan.nodes, plan), plan.tag);
    // QEMU's delete succeeds quietly on an unknown tag; a typo should not look like success.
    if (holders.length === 0) throw notFound(plan.tag, plan.nodes);
    const args = { tag: plan.tag, devices: holders };
    await perform(
      qmp,
      plan,
      () => runQmpJob(qmp, 'snapshot-delete', args, plan),
      `delvm ${hmpQuote(plan.tag)}`,
    );
    const left = nodesWith(await readSnapshots(qmp, plan.nodes, plan), plan.tag);
    if (left.length > 0) {
      throw snapshotError(
        `${plan.what}: QEMU reported success but ${left.join(', ')} still holds it`,
        'check the disks with `snapshot ls`',
      );
    }
  });
}

const notFound = (tag: string, nodes: readonly string[]): QlaunchError =>
  new QlaunchError(ErrorCode.VM_SNAPSHOT_NOT_FOUND, `no snapshot '${tag}' on ${nodes.join(', ')}`, {
    hint: LS_HINT,
  });

/** One HMP command whose output, if any, is its failure. */
async function hmp(qmp: QmpClient, commandLine: string, plan: Plan): Promise<void> {
  const output = await qmp.execute('human-monitor-command', { 'command-line': commandLine }, timed(plan));
  const failure = hmpFailure(output);
  if (failure !== undefined) {
    throw snapshotError(`${plan.what} failed: ${failure}`, 'QEMU refused; its message says why');
  }
}

/** The QMP job, or the HMP command when the plan says so, or when `auto` finds the job command missing after all. */
async function perform(qmp: QmpClient, plan: Plan, job: () => Promise<void>, hmpLine: string): Promise<void> {
  if (plan.method === 'hmp') return hmp(qmp, hmpLine, plan);
  try {
    await job();
  } catch (error) {
    const missing = error instanceof QmpCommandError && error.errorClass === 'CommandNotFound';
    if (!missing || !plan.auto) throw error;
    await hmp(qmp, hmpLine, plan);
  }
}

/** QEMU stops the VM to load and does not resume it when loading fails: say so, since the guest is now frozen. */
async function withPausedNote(
  qmp: QmpClient,
  error: QlaunchError,
  wasRunning: boolean,
): Promise<QlaunchError> {
  if (!wasRunning) return error;
  const status = await qmp.execute('query-status', undefined, { timeout: 10_000 }).catch(() => undefined);
  if (status === undefined || status.running) return error;
  return new QlaunchError(error.code, `${error.message}; the VM is left paused (${status.status})`, {
    hint: 'its state may be partly restored: load a snapshot that works, then resume it (QMP cont), or stop the VM',
    cause: error,
  });
}
