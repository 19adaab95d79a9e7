// Stopping an instance: re-attach to its QEMU as a `Guest` and stop it by the one stop policy, then remove the
// files that only mean something while it runs.

import { attachGuest } from '../guest/attach.js';
import type { StopHow, StopOptions } from '../guest/stop.js';
import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import type { InstancePaths } from './layout.js';
import { removeRuntimeFiles } from './runtime.js';

export type { StopHow } from '../guest/stop.js';
export type StopInstanceOptions = StopOptions;

/** Stop QEMU `pid` of a running or paused instance (caller holds the lock) and remove its runtime files. */
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
  const { how } = await guest.stop(options);
  await removeRuntimeFiles(paths);
  options.logger.info({ how }, 'instance stopped');
  return how as StopHow;
}
