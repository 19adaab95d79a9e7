// Connecting to a freshly spawned, paused QEMU: QMP and the console, then resume the guest.
// Loaded by launch() after the spawn, so this work overlaps QEMU's own start-up.

import { rm } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import { QmpClient } from '../qmp/index.js';
import { SerialConsole } from './console/serial.js';
import { Vm } from './guest.js';
import type { QemuProcess } from './process.js';
import { connectWithRetry } from './unix-socket.js';

export interface AttachPlan {
  spec: VmSpec;
  qemu: QemuProcess;
  qmpSocket: string;
  serialSocket: string;
  /** Removed once both sockets are connected (their files are no longer needed). */
  runtimeDir: string;
  /** Epoch ms by which QMP must be up. */
  deadline: number;
  accel: 'kvm' | 'tcg';
  logger: Logger;
}

/** Failures are plain errors: launch() words them with QEMU's exit status and stderr. */
export async function attachVm(plan: AttachPlan): Promise<Vm> {
  const { qemu, deadline, logger } = plan;
  const alive = () => qemu.running;
  const qmp = new QmpClient({ logger: logger.child({ component: 'qmp' }) });
  try {
    const socket = await connectWithRetry(plan.qmpSocket, { deadline, alive });
    if (!socket) {
      throw new Error(
        alive() ? `QEMU did not open its QMP socket in time` : 'QEMU exited before opening its QMP socket',
      );
    }
    await qmp.connect(socket, { timeout: Math.max(1000, deadline - Date.now()) });
    const serialConn = await connectWithRetry(plan.serialSocket, { deadline, alive });
    if (!serialConn) throw new Error('QEMU did not open its serial console socket');
    const serial = new SerialConsole();
    serial.attach(serialConn);
    // Both sockets are connected: nothing is left on disk even if this process is killed from here on.
    await rm(plan.runtimeDir, { recursive: true, force: true });
    const vm = new Vm({ spec: plan.spec, process: qemu, qmp, serial, accel: plan.accel, logger });
    await qmp.execute('cont');
    return vm;
  } catch (error) {
    qmp.destroy();
    throw error;
  }
}
