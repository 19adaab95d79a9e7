// One command's session with a running instance: QEMU found from evidence, re-attached as a `Guest` with one QMP
// session, and the instance's state judged over that same session.

import { ErrorCode, QlaunchError } from '../errors.js';
import { attachGuest } from '../guest/attach.js';
import type { Guest } from '../guest/guest.js';
import type { Logger } from '../logger.js';
import type { InstanceConfig } from './config.js';
import type { InstancePaths } from './layout.js';
import { instanceSpec } from './start.js';
import { type InstanceStatus, judgeState, liveQemu } from './state.js';

export interface InstanceContext {
  name: string;
  paths: InstancePaths;
  config: InstanceConfig;
}

export interface InstanceSession {
  status: InstanceStatus;
  /** The running guest; undefined when the instance is not running (then `status` says why). */
  guest: Guest | undefined;
}

/** Re-attach to the instance's QEMU if it runs; the caller ends the session with `guest.detach()` (or stops it). */
export async function openSession(instance: InstanceContext, logger: Logger): Promise<InstanceSession> {
  const evidence = await liveQemu(instance.paths);
  if (evidence.livePid === undefined) return { status: judgeState(evidence), guest: undefined };
  const guest = await attachGuest({
    pid: evidence.livePid,
    spec: instanceSpec(instance.config, instance.paths),
    qmpSocket: instance.paths.qmp,
    guestAgent: instance.paths.guestAgent,
    accel: evidence.runtime?.accel ?? 'tcg',
    logger,
  });
  const qmpStatus = await guest.qmp
    .execute('query-status')
    .then((status) => status.status)
    .catch(() => undefined);
  return { status: judgeState({ ...evidence, qmpStatus }), guest };
}

export const notRunning = (name: string, doing: string, state: string): QlaunchError =>
  new QlaunchError(ErrorCode.INSTANCE_NOT_RUNNING, `cannot ${doing} instance ${name}: it is ${state}`, {
    hint: `start it with \`qlaunch start ${name}\``,
  });

/** Run `work` on the running instance's guest (one QMP session), then detach; a stopped one is INSTANCE_NOT_RUNNING. */
export async function withGuest<T>(
  instance: InstanceContext,
  doing: string,
  logger: Logger,
  work: (guest: Guest, status: InstanceStatus) => Promise<T>,
): Promise<T> {
  const { status, guest } = await openSession(instance, logger);
  if (!guest || (status.state !== 'running' && status.state !== 'paused')) {
    guest?.detach();
    throw notRunning(instance.name, doing, status.state);
  }
  try {
    return await work(guest, status);
  } finally {
    guest.detach();
  }
}
