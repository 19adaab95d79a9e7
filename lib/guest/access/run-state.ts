// QEMU run states a guest never leaves by itself (paused on a disk error, panicked, shut down): seen over QMP while
// a readiness wait runs, they end it at once with the reason and the fix, instead of a timeout minutes later.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';

/** What one look at QEMU found: its run status and, on a disk error, which disks and why. */
export interface RunStateLook {
  status: string;
  /** "root (no space left on the host)", … for disks QEMU stopped on. */
  diskErrors?: string[] | undefined;
}

/** How to resume a guest once its disk can be written again, said the way the caller's user would do it. */
export interface RunStateFixes {
  resume: string;
}

/** The error for a terminal run state (pure); undefined for states a guest can still leave by itself. */
export function terminalStateError(look: RunStateLook, fixes: RunStateFixes): QlaunchError | undefined {
  switch (look.status) {
    case 'io-error': {
      const disks = look.diskErrors?.length ? `: ${look.diskErrors.join(', ')}` : '';
      const full = look.diskErrors?.some((d) => d.includes('no space')) ?? true;
      return new QlaunchError(ErrorCode.VM_IO_ERROR, `the guest is paused on a disk I/O error${disks}`, {
        hint: full
          ? `free space on the host filesystem that holds the guest's disk (df -h), then ${fixes.resume}`
          : `check the host disk that holds the guest's disk image, then ${fixes.resume}`,
      });
    }
    case 'guest-panicked':
      return new QlaunchError(
        ErrorCode.VM_KERNEL_PANIC,
        'the guest kernel panicked (QEMU reports guest-panicked)',
        {
          hint: 'the console shows the panic; check the kernel, its command line and the root disk',
        },
      );
    case 'internal-error':
      return new QlaunchError(ErrorCode.VM_EXITED, 'QEMU stopped the guest on an internal error', {
        hint: "QEMU's log says why (with an instance: qlaunch logs NAME --source qemu)",
      });
    case 'shutdown':
      return new QlaunchError(ErrorCode.VM_EXITED, 'the guest shut down before it was ready', {
        hint: 'the console shows why it powered off; start it again once that is fixed',
      });
    default:
      return undefined;
  }
}

const IO_STATUS: Record<string, string> = { nospace: 'no space left on the host', failed: 'a failed write' };

/** One look over `qmp`: `query-status`, and on an I/O error `query-block` for the disks QEMU stopped on. */
export async function lookOver(qmp: QmpClient): Promise<RunStateLook> {
  const { status } = await qmp.execute('query-status');
  if (status !== 'io-error') return { status };
  const blocks = (await qmp.execute('query-block').catch(() => [])) as {
    device?: string;
    qdev?: string;
    inserted?: { 'node-name'?: string };
    'io-status'?: string;
  }[];
  const diskErrors = blocks
    .filter((b) => b['io-status'] !== undefined && b['io-status'] !== 'ok')
    .map((b) => {
      const name = b.inserted?.['node-name'] || b.device || b.qdev || 'a disk';
      return `${name} (${IO_STATUS[b['io-status'] ?? ''] ?? b['io-status']})`;
    });
  return { status, diskErrors };
}

export const RUN_STATE_POLL_MS = 2000;

/**
 * Looks at the guest every `intervalMs` until `signal` aborts (then never settles); rejects with the terminal
 * state's error. A look that fails (QMP busy or gone) is skipped: QEMU's exit is watched elsewhere.
 */
export async function watchRunState(
  look: () => Promise<RunStateLook>,
  fixes: RunStateFixes,
  signal: AbortSignal,
  intervalMs = RUN_STATE_POLL_MS,
): Promise<never> {
  const never = new Promise<never>(() => {});
  while (!signal.aborted) {
    const seen = await look().catch(() => undefined);
    if (signal.aborted) break;
    const error = seen && terminalStateError(seen, fixes);
    if (error) throw error;
    await sleep(intervalMs, undefined, { signal }).catch(() => {});
  }
  return never;
}
