// Stopping an instance: re-attach to its QEMU as a `Guest` and stop it by the one stop policy, make sure no QEMU is
// left on the instance, then remove the files that only mean something while it runs.

import { ErrorCode, QlaunchError } from '../errors.js';
import { attachGuest } from '../guest/attach.js';
import type { Guest } from '../guest/guest.js';
import type { StopHow, StopOptions } from '../guest/stop.js';
import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import { processAlive } from '../process-alive.js';
import { detachTaps } from './host-taps.js';
import type { InstancePaths } from './layout.js';
import { qemuHolding } from './qemu-holders.js';
import { removeRuntimeFiles } from './runtime.js';
import { type InstanceContext, openSession } from './session.js';
import type { InstanceStatus } from './state.js';

export type { StopHow } from '../guest/stop.js';
export type StopInstanceOptions = StopOptions;

/** What a check for a leftover QEMU is for: the instance and the command, for messages, and the QEMU just stopped. */
interface Doing {
  name: string;
  /** The command's verb: "cannot remove instance c: …". */
  doing: string;
  stopped?: number | undefined;
}

/**
 * Refuse to go on while a QEMU still runs on the instance: the one just stopped (it outlived SIGKILL, or is not
 * ours to signal), or one holding its files that no record names. Runtime files are kept as evidence then.
 */
export async function requireNoQemu(paths: InstancePaths, what: Doing): Promise<void> {
  const cannot = `cannot ${what.doing} instance ${what.name}`;
  const holders = await qemuHolding(paths.dir);
  const stopped = what.stopped;
  if (stopped !== undefined && (processAlive(stopped) || holders.includes(stopped))) {
    throw new QlaunchError(
      ErrorCode.INSTANCE_STILL_RUNNING,
      `${cannot}: its QEMU (pid ${stopped}) is still running after it was told to stop`,
      {
        hint: `end it yourself (kill -9 ${stopped}; as its owner or root if it is not yours), then try again`,
      },
    );
  }
  if (holders.length > 0) {
    const pids = holders.join(', ');
    throw new QlaunchError(
      ErrorCode.INSTANCE_STILL_RUNNING,
      `${cannot}: QEMU (pid ${pids}) has its files open, but no record of the instance names that QEMU`,
      {
        hint: `qlaunch will not signal a QEMU it cannot tell is this instance's: stop it yourself (kill ${pids}), then try again`,
      },
    );
  }
}

/** Stop the attached `guest` of an instance, make sure it is gone, and remove its runtime files. */
async function stopGuest(
  guest: Guest,
  paths: InstancePaths,
  options: StopOptions,
  log: Logger,
  what: Doing,
): Promise<StopHow> {
  const { how } = await guest.stop(options);
  await requireNoQemu(paths, { ...what, stopped: guest.pid });
  await removeRuntimeFiles(paths);
  log.info({ how }, 'instance stopped');
  return how as StopHow;
}

/** Stop QEMU `pid` of an instance known only by its directory (caller holds the lock). */
export async function stopInstanceQemu(
  paths: InstancePaths,
  pid: number,
  spec: VmSpec,
  options: StopOptions & { logger: Logger; accel: 'kvm' | 'tcg'; what: Doing },
): Promise<StopHow> {
  const guest = await attachGuest({
    pid,
    spec,
    qmpSocket: paths.qmp,
    guestAgent: paths.guestAgent,
    accel: options.accel,
    logger: options.logger,
  });
  return stopGuest(guest, paths, options, options.logger, options.what);
}

/**
 * Stop the instance if it runs (caller holds the lock); a crashed or stopped one only has its leftovers removed.
 * Either way no QEMU is left on it when this returns: `doing` names the command in the error when one is.
 */
export async function stopOrCleanUp(
  instance: InstanceContext,
  options: StopOptions,
  log: Logger,
  doing = 'stop',
): Promise<{ how?: StopHow | undefined; was: InstanceStatus['state'] }> {
  const what = { name: instance.name, doing };
  const { status, guest } = await openSession(instance, log);
  if (guest && (status.state === 'running' || status.state === 'paused')) {
    const how = await stopGuest(guest, instance.paths, options, log, what);
    await detachTaps(instance.config, instance.paths);
    return { how, was: status.state };
  }
  guest?.detach();
  await requireNoQemu(instance.paths, what);
  if (status.state === 'crashed') log.warn({ detail: status.detail }, 'cleaning up after a crash');
  await removeRuntimeFiles(instance.paths);
  await detachTaps(instance.config, instance.paths);
  return { was: status.state };
}
