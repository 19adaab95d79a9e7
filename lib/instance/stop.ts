// Stopping an instance: re-attach to its QEMU as a `Guest` and stop it by the one stop policy, then remove the
// files that only mean something while it runs.

import { attachGuest } from '../guest/attach.js';
import type { Guest } from '../guest/guest.js';
import type { StopHow, StopOptions } from '../guest/stop.js';
import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import type { InstancePaths } from './layout.js';
import { removeRuntimeFiles } from './runtime.js';
import { type InstanceContext, openSession } from './session.js';
import type { InstanceStatus } from './state.js';

export type { StopHow } from '../guest/stop.js';
export type StopInstanceOptions = StopOptions;

/** Stop the attached `guest` of an instance and remove its runtime files. */
async function stopGuest(
  guest: Guest,
  paths: InstancePaths,
  options: StopOptions,
  log: Logger,
): Promise<StopHow> {
  const { how } = await guest.stop(options);
  await removeRuntimeFiles(paths);
  log.info({ how }, 'instance stopped');
  return how as StopHow;
}

/** Stop QEMU `pid` of an instance known only by its directory (caller holds the lock). */
export async function stopInstanceQemu(
  paths: InstancePaths,
  pid: number,
  spec: VmSpec,
  options: StopOptions & { logger: Logger; accel: 'kvm' | 'tcg' },
): Promise<StopHow> {
  const guest = await attachGuest({
    pid,
    spec,
    qmpSocket: paths.qmp,
    guestAgent: paths.guestAgent,
    accel: options.accel,
    logger: options.logger,
  });
  return stopGuest(guest, paths, options, options.logger);
}

/** Stop the instance if it runs (caller holds the lock); a crashed or stopped one only has its leftovers removed. */
export async function stopOrCleanUp(
  instance: InstanceContext,
  options: StopOptions,
  log: Logger,
): Promise<{ how?: StopHow | undefined; was: InstanceStatus['state'] }> {
  const { status, guest } = await openSession(instance, log);
  if (guest && (status.state === 'running' || status.state === 'paused')) {
    return { how: await stopGuest(guest, instance.paths, options, log), was: status.state };
  }
  guest?.detach();
  if (status.state === 'crashed') log.warn({ detail: status.detail }, 'cleaning up after a crash');
  await removeRuntimeFiles(instance.paths);
  return { was: status.state };
}
