// An instance's port forwards while it runs: added and removed over QMP, listed from QEMU's own `info usernet`.

import { ErrorCode, QlaunchError } from '../errors.js';
import { addForward, removeForward } from '../guest/ports/ports.js';
import { listForwards } from '../guest/ports/usernet.js';
import type { PortForward } from '../machine/spec.js';
import { parsePortForward } from '../machine/spec.js';
import type { QmpClient } from '../qmp/index.js';

export { listForwards } from '../guest/ports/usernet.js';

/** Forward 127.0.0.1:HOST to the guest (`HOST:GUEST`, or a guest port for a free host port). */
export async function addPort(qmp: QmpClient, spec: string | number): Promise<PortForward> {
  const wanted =
    typeof spec === 'number'
      ? { guestPort: spec, hostPort: 0, protocol: 'tcp' as const, hostAddress: '127.0.0.1' }
      : parsePortForward(spec);
  return addForward(qmp, wanted.guestPort, {
    protocol: wanted.protocol,
    hostAddress: wanted.hostAddress,
    hostPort: wanted.hostPort === 0 ? undefined : wanted.hostPort,
  });
}

/** Remove the forward of host port `hostPort` (as `port ls` shows it). */
export async function removePort(
  qmp: QmpClient,
  name: string,
  hostPort: number,
  protocol: 'tcp' | 'udp',
): Promise<PortForward> {
  const forward = (await listForwards(qmp)).find((f) => f.hostPort === hostPort && f.protocol === protocol);
  if (!forward) {
    throw new QlaunchError(
      ErrorCode.VM_PORT_FORWARD,
      `instance ${name} has no forward from host port ${hostPort}/${protocol}`,
      { hint: `\`qlaunch port ls ${name}\` lists its forwards` },
    );
  }
  await removeForward(qmp, forward);
  return forward;
}
