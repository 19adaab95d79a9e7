// One QMP background job (snapshot-save, snapshot-load, …) run to its end: start, wait, read its error, dismiss.

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, isQlaunchError, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';

/** One entry of `query-jobs`. */
export interface QmpJobInfo {
  id: string;
  type: string;
  /** created, running, paused, ready, standby, waiting, pending, aborting, concluded, undefined, null. */
  status: string;
  'current-progress': number;
  'total-progress': number;
  /** Set once a job concluded with a failure: QEMU's message. */
  error?: string;
}

declare module '../../qmp/commands.js' {
  interface QmpCommandMap {
    'query-jobs': { args: undefined; result: QmpJobInfo[] };
    'job-dismiss': { args: { id: string }; result: QmpEmpty };
  }
  interface QmpEventMap {
    JOB_STATUS_CHANGE: { id: string; status: string };
  }
}

export interface QmpJobRun {
  /** What the job does, for messages: "saving snapshot 'base'". */
  what: string;
  /** Epoch ms by which the job must have concluded. */
  deadline: number;
  signal?: AbortSignal | undefined;
  /** How often `query-jobs` is asked, in case a JOB_STATUS_CHANGE event was missed (default 1 s). */
  pollInterval?: number | undefined;
}

const DEFAULT_POLL_MS = 1000;

/** The job id QEMU will know this run by: unique, so a job left behind never blocks the next one. */
export const newJobId = (kind: string): string => `qlaunch-${kind}-${randomBytes(4).toString('hex')}`;

export const jobTimeout = (what: string, ms: number): QlaunchError =>
  new QlaunchError(ErrorCode.VM_TIMEOUT, `${what} did not finish within ${ms} ms`, {
    hint: 'a big guest takes longer to save (all of its RAM is written): raise the timeout',
  });

export const jobAborted = (what: string, reason: unknown): QlaunchError =>
  new QlaunchError(ErrorCode.VM_ABORTED, `${what} was aborted; QEMU may still finish it`, {
    hint: 'check the result with `snapshot ls`',
    cause: reason,
  });

/**
 * Starts `command` (which takes a `job-id`) and resolves once the job concluded without error; a job error, a job
 * that disappears, the deadline or the signal reject. A QMP error of the start itself is thrown as it comes, so
 * the caller can tell a missing command (CommandNotFound) from a failed one.
 */
export async function runQmpJob(
  qmp: QmpClient,
  command: string,
  args: Record<string, unknown>,
  run: QmpJobRun,
): Promise<void> {
  const jobId = newJobId(command);
  const started = Date.now();
  const expired = (): QlaunchError => jobTimeout(run.what, run.deadline - started);
  const remaining = (): number => {
    const left = run.deadline - Date.now();
    if (left <= 0) throw expired();
    return left;
  };
  let job: QmpJobInfo;
  try {
    const cursor = qmp.eventCursor();
    await qmp.execute(command, { ...args, 'job-id': jobId }, { timeout: remaining(), signal: run.signal });
    job = await waitForConclusion(qmp, jobId, cursor, run, remaining);
  } catch (error) {
    // Every wait above is bounded by the deadline and the signal, so these two codes mean exactly that.
    if (isQlaunchError(error, ErrorCode.QMP_ABORTED)) throw jobAborted(run.what, run.signal?.reason);
    if (isQlaunchError(error, ErrorCode.QMP_TIMEOUT)) throw expired();
    throw error;
  }
  // A concluded job stays listed until dismissed; a failed dismiss only leaves a line in query-jobs behind.
  await qmp.execute('job-dismiss', { id: jobId }, { timeout: 10_000 }).catch(() => {});
  if (job.error !== undefined) {
    throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `${run.what} failed: ${job.error}`, {
      hint: 'QEMU refused; its message above says why',
    });
  }
}

async function waitForConclusion(
  qmp: QmpClient,
  jobId: string,
  cursor: number,
  run: QmpJobRun,
  remaining: () => number,
): Promise<QmpJobInfo> {
  const listening = new AbortController();
  const concluded = qmp
    .waitFor('JOB_STATUS_CHANGE', {
      since: cursor,
      filter: (event) => event.data.id === jobId && event.data.status === 'concluded',
      signal: listening.signal,
    })
    .catch(() => undefined);
  let eventSeen = false;
  void concluded.then(() => {
    eventSeen = true;
  });
  try {
    for (;;) {
      if (run.signal?.aborted) throw jobAborted(run.what, run.signal.reason);
      const jobs = await qmp.execute('query-jobs', undefined, { timeout: remaining(), signal: run.signal });
      const job = jobs.find((j) => j.id === jobId);
      if (job === undefined) {
        throw new QlaunchError(
          ErrorCode.VM_SNAPSHOT,
          `${run.what}: QEMU job ${jobId} vanished before qlaunch read its result`,
          { hint: 'another QMP client may have dismissed it; check the result with `snapshot ls`' },
        );
      }
      if (job.status === 'concluded') return job;
      // The event usually ends the wait; the poll covers an event lost to a full history.
      const wait = Math.min(run.pollInterval ?? DEFAULT_POLL_MS, remaining());
      const waking = new AbortController();
      const signal = run.signal ? AbortSignal.any([run.signal, waking.signal]) : waking.signal;
      const pause = sleep(wait, undefined, { signal }).catch(() => {});
      await (eventSeen ? pause : Promise.race([concluded, pause]));
      waking.abort(); // no timer outlives the wait
    }
  } finally {
    listening.abort();
  }
}
