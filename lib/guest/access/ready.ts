// When a cloud guest is ready: SSH accepts our key, cloud-init has finished and the guest has flushed what it
// provisioned to disk; polled with backoff, failing fast.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, isQlaunchError, QlaunchError } from '../../errors.js';
import type { AccelName } from '../../host/types.js';
import type { ReadyGuest } from './ready-guest.js';
import { type SshResult, sshExec } from './ssh.js';
import type { SshTarget } from './ssh-args.js';

export interface WaitOptions {
  /** Epoch milliseconds after which the wait fails with VM_TIMEOUT. */
  deadline: number;
  /** Aborting ends the wait with VM_ABORTED. */
  signal?: AbortSignal | undefined;
  /** Rejects when the guest can no longer become ready (QEMU exited, kernel panic): the wait ends with that error. */
  failFast?: Promise<unknown> | undefined;
  /** The last console lines, for the timeout error. */
  consoleTail?: (() => string) | undefined;
}

/** Poll delays: 250 ms doubling up to 2 s, so a fast guest is seen at once and a slow one is not hammered. */
export const BACKOFF = { firstMs: 250, maxMs: 2000 } as const;
export const nextDelay = (ms: number): number => Math.min(ms * 2, BACKOFF.maxMs);

/** Defaults for the whole wait: a TCG guest boots several times slower than a KVM one. */
export const defaultReadyTimeout = (accel: AccelName): number => (accel === 'kvm' ? 120_000 : 300_000);

// Each poll is one ssh run; a guest too slow even to finish the handshake is polled again, not waited on forever.
const ATTEMPT_TIMEOUT_MS = 30_000;
const BOOT_FINISHED = '/var/lib/cloud/instance/boot-finished';
// Then `sync`, in the same session (one SSH handshake fewer): what cloud-init provisioned must survive a hard kill
// too. The status output and exit status pass through.
const STATUS_THEN_SYNC = ['sh', '-c', 'cloud-init status --wait; rc=$?; sync; exit $rc'];
const FINISHED_THEN_SYNC = ['sh', '-c', `test -f ${BOOT_FINISHED} && sync`];

const lastLine = (text: string): string => text.trim().split('\n').at(-1) ?? '';

/**
 * Runs `work` until it settles, the deadline passes (VM_TIMEOUT naming `what`, the last problem `work` noted,
 * and the console tail), `signal` aborts or `failFast` rejects; `work`'s own signal then aborts what it runs.
 */
function withinDeadline<T>(
  what: string,
  options: WaitOptions,
  work: (signal: AbortSignal, note: (problem: string) => void) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const inner = new AbortController();
  let problem = '';
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      inner.abort();
      settle();
    };
    const onTimeout = (): void => {
      const ms = Date.now() - started;
      const seconds = (ms / 1000).toFixed(ms < 10_000 ? 1 : 0);
      const tail = options.consoleTail?.() ?? '';
      const message = `gave up after ${seconds} s waiting for ${what}${problem ? ` (last: ${problem})` : ''}${tail ? `; last console lines:\n${tail}` : ''}`;
      const hint =
        'raise the timeout (TCG guests boot several times slower than KVM ones), or see the console for why the guest is stuck';
      finish(() => reject(new QlaunchError(ErrorCode.VM_TIMEOUT, message, { hint })));
    };
    const onAbort = (): void =>
      finish(() =>
        reject(
          new QlaunchError(ErrorCode.VM_ABORTED, `waiting for ${what} was aborted`, {
            hint: 'the wait was cancelled through its AbortSignal; the guest itself was not stopped by that',
          }),
        ),
      );
    const timer = setTimeout(onTimeout, Math.max(0, options.deadline - started));
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    options.failFast?.then(undefined, (error: unknown) => finish(() => reject(error)));
    work(inner.signal, (text) => {
      problem = text;
    }).then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/**
 * Poll `ssh … sync` until the guest's sshd accepts our key. `sync`, not `true`: the host keys ssh has just pinned,
 * and all the guest wrote before, are then on its disk, so a hard kill right after cannot leave them empty.
 */
export async function waitForSsh(target: SshTarget, options: WaitOptions): Promise<void> {
  try {
    await access(target.privateKey, constants.R_OK);
  } catch (error) {
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `the SSH key ${target.privateKey} cannot be read`, {
      hint: 'create the instance key pair first (createKeyPair)',
      cause: error,
    });
  }
  const what = `SSH on ${target.host}:${target.port} to accept the key of ${target.user}`;
  await withinDeadline(what, options, async (signal, note) => {
    for (let delay: number = BACKOFF.firstMs; ; delay = nextDelay(delay)) {
      const result = await sshExec(target, ['sync'], { signal, timeout: ATTEMPT_TIMEOUT_MS }).catch(
        (error: unknown) => {
          if (!isQlaunchError(error, ErrorCode.VM_TIMEOUT)) throw error;
          return undefined;
        },
      );
      if (result?.exitCode === 0) return;
      note(result ? lastLine(result.stderr) || `exit status ${result.exitCode}` : 'ssh timed out');
      await sleep(delay, undefined, { signal });
    }
  });
}

export type CloudInitStatus = 'done' | 'degraded' | 'disabled' | 'error' | 'running';

/** cloud-init's state from `cloud-init status` output (PURE); undefined when there is no `status:` line. */
export function parseCloudInitStatus(stdout: string, exitCode: number): CloudInitStatus | undefined {
  const lines = [...stdout.matchAll(/^status: *(.+?)\s*$/gm)];
  const value = lines.at(-1)?.[1]?.toLowerCase();
  if (value === undefined) return undefined;
  if (value.startsWith('error')) return 'error';
  if (value === 'degraded done') return 'degraded';
  // cloud-init ≥ 23.4 says "done" with exit status 2 when it met recoverable errors.
  if (value === 'done') return exitCode === 2 ? 'degraded' : 'done';
  if (value === 'disabled') return 'disabled';
  return 'running';
}

export type CloudInitStep =
  | { kind: 'finished'; status: 'done' | 'degraded' | 'disabled' }
  | { kind: 'failed' }
  | { kind: 'retry'; problem: string }
  | { kind: 'fallback' };

/** What one `cloud-init status --wait` run means for the wait (PURE). */
export function cloudInitStep(result: SshResult): CloudInitStep {
  const status = parseCloudInitStatus(result.stdout, result.exitCode);
  if (status === 'error') return { kind: 'failed' };
  if (status === 'done' || status === 'degraded' || status === 'disabled')
    return { kind: 'finished', status };
  if (status === 'running')
    return { kind: 'retry', problem: 'cloud-init status --wait returned while running' };
  // ssh lost the connection (sshd restarted by a cloud-init module, say): ask again.
  if (result.connectionFailed) return { kind: 'retry', problem: lastLine(result.stderr) || 'ssh failed' };
  // No status line: cloud-init without the `status` command (before 17.1) or without cloud-init on PATH.
  return { kind: 'fallback' };
}

export interface CloudInitResult {
  status: 'done' | 'degraded' | 'disabled';
  /** How it was learned: `cloud-init status`, or the boot-finished file on images too old for that. */
  source: 'status' | 'boot-finished';
  /** `cloud-init status --long` when degraded (what went wrong), else empty. */
  detail: string;
}

async function longStatus(target: SshTarget, signal: AbortSignal): Promise<string> {
  const result = await sshExec(target, ['cloud-init', 'status', '--long'], {
    signal,
    timeout: ATTEMPT_TIMEOUT_MS,
  });
  return (result.stdout + result.stderr).trim();
}

/**
 * Wait until cloud-init has finished in the guest, which then syncs its disk; a cloud-init error is
 * VM_CLOUD_INIT_FAILED with its report.
 */
export async function waitForCloudInit(target: SshTarget, options: WaitOptions): Promise<CloudInitResult> {
  const what = `cloud-init to finish in the guest at ${target.host}:${target.port}`;
  return withinDeadline(what, options, async (signal, note) => {
    let fallback = false;
    for (let delay: number = BACKOFF.firstMs; ; delay = nextDelay(delay)) {
      if (fallback) {
        const result = await sshExec(target, FINISHED_THEN_SYNC, {
          signal,
          timeout: ATTEMPT_TIMEOUT_MS,
        });
        if (result.exitCode === 0) return { status: 'done', source: 'boot-finished', detail: '' };
        note(result.connectionFailed ? lastLine(result.stderr) : `${BOOT_FINISHED} is not there yet`);
      } else {
        const step = cloudInitStep(await sshExec(target, STATUS_THEN_SYNC, { signal }));
        if (step.kind === 'finished') {
          const detail = step.status === 'degraded' ? await longStatus(target, signal) : '';
          return { status: step.status, source: 'status', detail };
        }
        if (step.kind === 'failed') {
          throw new QlaunchError(
            ErrorCode.VM_CLOUD_INIT_FAILED,
            `cloud-init failed in the guest at ${target.host}:${target.port}:\n${await longStatus(target, signal)}`,
            { hint: 'check the user-data; /var/log/cloud-init.log in the guest tells the whole story' },
          );
        }
        if (step.kind === 'fallback') {
          fallback = true;
          continue;
        }
        note(step.problem);
      }
      await sleep(delay, undefined, { signal });
    }
  });
}

export interface WaitReadyOptions {
  /** The accelerator the guest runs on, for the default timeout. */
  accel: AccelName;
  /** Milliseconds for the whole wait (default 5 min under TCG, 2 min under KVM). */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Run `work` with one deadline while the guest is watched: its failure ends the wait at once. `sshAnswered` ends
 * the sshd watch (a later sshd restart is cloud-init's business, and its failure shows up as a timeout).
 */
async function watchedWait<T>(
  guest: ReadyGuest,
  options: WaitReadyOptions,
  work: (wait: WaitOptions, sshAnswered: () => void) => Promise<T>,
): Promise<T> {
  const watching = new AbortController();
  const sshd = new AbortController();
  const failFast = Promise.race([guest.watchFailure(watching.signal), guest.watchSshd(sshd.signal)]);
  // The waits below attach their own handlers; this one covers a failure that comes before they do.
  failFast.catch(() => {});
  const wait: WaitOptions = {
    deadline: Date.now() + (options.timeout ?? defaultReadyTimeout(options.accel)),
    signal: options.signal,
    failFast,
    consoleTail: () => guest.consoleTail(),
  };
  try {
    return await work(wait, () => sshd.abort());
  } finally {
    watching.abort();
    sshd.abort();
  }
}

/** SSH accepts our key (and the guest has synced its disk), failing fast if the guest dies or its sshd cannot start. */
export function waitSshReady(guest: ReadyGuest, target: SshTarget, options: WaitReadyOptions): Promise<void> {
  return watchedWait(guest, options, (wait) => waitForSsh(target, wait));
}

/**
 * SSH accepts our key, then cloud-init has finished, then the guest syncs its disk: one deadline for all, failing
 * fast if the guest dies or its sshd cannot start.
 */
export function waitReady(
  guest: ReadyGuest,
  target: SshTarget,
  options: WaitReadyOptions,
): Promise<CloudInitResult> {
  return watchedWait(guest, options, async (wait, sshAnswered) => {
    await waitForSsh(target, wait);
    sshAnswered();
    return await waitForCloudInit(target, wait);
  });
}
