// Host port forwards added at runtime over QMP: QEMU itself binds the port, so there is no pick-then-bind race.

import { ErrorCode, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';

export interface ForwardOptions {
  protocol?: 'tcp' | 'udp' | undefined;
  /** A fixed host port; default: a free one chosen by trying. */
  hostPort?: number | undefined;
  /** Default 127.0.0.1; forwards are never exposed beyond loopback unless asked. */
  hostAddress?: string | undefined;
  /** How many random ports to try before giving up (default 20). */
  attempts?: number | undefined;
}

export interface Forward {
  protocol: 'tcp' | 'udp';
  hostAddress: string;
  hostPort: number;
  guestPort: number;
}

// Linux's default ephemeral range starts at 32768; stay below it so outgoing connections do not collide.
const LOW = 20_000;
const HIGH = 32_000;
// Binding a host port below this needs root (CAP_NET_BIND_SERVICE).
const PRIVILEGED_BELOW = 1024;

const rule = (f: Forward) => `${f.protocol}:${f.hostAddress}:${f.hostPort}-:${f.guestPort}`;

/** Add a forward to the VM's user-mode NIC (netdev `net0`); tries random free ports unless one is given. */
export async function addForward(
  qmp: QmpClient,
  guestPort: number,
  options: ForwardOptions = {},
): Promise<Forward> {
  const attempts = options.hostPort === undefined ? (options.attempts ?? 20) : 1;
  let last = '';
  for (let i = 0; i < attempts; i++) {
    const forward: Forward = {
      protocol: options.protocol ?? 'tcp',
      hostAddress: options.hostAddress ?? '127.0.0.1',
      hostPort: options.hostPort ?? LOW + Math.floor(Math.random() * (HIGH - LOW)),
      guestPort,
    };
    // HMP answers an empty string on success and a sentence on failure (the port is taken, say).
    last = (
      await qmp.execute('human-monitor-command', { 'command-line': `hostfwd_add net0 ${rule(forward)}` })
    ).trim();
    if (last === '') return forward;
  }
  throw new QlaunchError(
    ErrorCode.VM_PORT_FORWARD,
    `could not forward ${options.hostPort ? `host port ${options.hostPort}` : 'a host port'} to guest port ${guestPort}: ${last}`,
    {
      hint:
        options.hostPort !== undefined && options.hostPort > 0 && options.hostPort < PRIVILEGED_BELOW
          ? `port ${options.hostPort} is in use, or needs root, which a QEMU run as an unprivileged user has given up: pick a port from ${PRIVILEGED_BELOW}, give it when the guest starts (--port), or run it with --run-as-root`
          : options.hostPort
            ? `port ${options.hostPort} is probably in use: pick another`
            : 'check that the VM has user networking',
    },
  );
}

export async function removeForward(qmp: QmpClient, forward: Forward): Promise<void> {
  const text = `${forward.protocol}:${forward.hostAddress}:${forward.hostPort}`;
  const out = (
    await qmp.execute('human-monitor-command', { 'command-line': `hostfwd_remove net0 ${text}` })
  ).trim();
  // QEMU confirms with "host forwarding rule for … removed"; anything else is why it could not.
  if (out !== '' && !/ removed$/.test(out)) {
    throw new QlaunchError(ErrorCode.VM_PORT_FORWARD, `could not remove the forward of ${text}: ${out}`, {
      hint: 'list the forwards with `qlaunch port ls NAME`',
    });
  }
}
