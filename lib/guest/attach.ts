// Re-attaching to a guest an earlier command started (an instance's detached QEMU): the same `Guest`, with the
// process adopted by pid and a QMP session of its own, so every command stops and drives it the same way.

import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import { QmpClient } from '../qmp/index.js';
import { Guest } from './guest.js';
import { adoptQemu } from './process.js';

export interface AttachPlan {
  pid: number;
  spec: VmSpec;
  qmpSocket: string;
  guestAgent?: string | undefined;
  accel: 'kvm' | 'tcg';
  logger: Logger;
}

// Past this QMP counts as unreachable, and the guest is driven without it (agent, signals).
const CONNECT_MS = 3000;

/** A `Guest` for running QEMU `pid`; QMP that cannot be reached leaves the guest agent and signals to stop it. */
export async function attachGuest(plan: AttachPlan): Promise<Guest> {
  const qmp = new QmpClient({ connectTimeout: CONNECT_MS, commandTimeout: CONNECT_MS });
  let reachable = true;
  try {
    await qmp.connect(plan.qmpSocket);
  } catch (error) {
    plan.logger.warn({ err: error }, 'QMP did not answer');
    reachable = false;
  }
  return new Guest({
    spec: plan.spec,
    process: adoptQemu(plan.pid),
    qmp,
    qmpReachable: reachable,
    guestAgent: plan.guestAgent,
    accel: plan.accel,
    logger: plan.logger,
  });
}
