// Waiting for a started instance to be ready in the way asked: not at all, SSH, cloud-init, the guest agent, or
// text on its console — always failing fast when the guest dies or panics (or, for SSH, when its sshd cannot start).

import { ErrorCode, QlaunchError } from '../errors.js';
import { consoleGuest, defaultReadyTimeout, waitReady, waitSshReady } from '../guest/access/ready.js';
import type { SshTarget } from '../guest/access/ssh.js';
import { tailConsole } from '../guest/console/console-log.js';
import { processAlive } from '../process-alive.js';
import { type InstanceConfig, type InstanceReadiness, WAIT_KINDS } from './config.js';
import type { InstancePaths } from './layout.js';
import type { RuntimeRecord } from './runtime.js';

/** Parse `--wait none|ssh|cloud-init|agent|serial:TEXT` (pure). */
export function parseWait(text: string): InstanceReadiness {
  if ((WAIT_KINDS as readonly string[]).includes(text)) return text as (typeof WAIT_KINDS)[number];
  if (text.startsWith('serial:') && text.length > 'serial:'.length)
    return { serial: text.slice('serial:'.length) };
  throw new QlaunchError(ErrorCode.USAGE, `--wait ${text} is not a readiness check`, {
    hint: 'use none, ssh, cloud-init, agent or serial:TEXT',
  });
}

export const describeWait = (wait: InstanceReadiness): string =>
  typeof wait === 'string' ? wait : `serial:${wait.serial}`;

/** How to reach the instance over SSH while it runs; undefined when it has no SSH forward (no cloud image). */
export function sshTargetOf(
  config: InstanceConfig,
  paths: InstancePaths,
  runtime: RuntimeRecord | undefined,
): SshTarget | undefined {
  if (runtime?.sshPort === undefined || config.sshUser === undefined) return undefined;
  return {
    host: '127.0.0.1',
    port: runtime.sshPort,
    user: config.sshUser,
    privateKey: paths.key,
    knownHostsFile: paths.knownHosts,
  };
}

/** The commands that get an instance's sshd going again, for the error when it cannot start. */
const sshdFix = (name: string, unit: string): string =>
  `\`qlaunch exec ${name} -- journalctl -b -u ${unit}\` says why; if the guest was killed during its first boot (empty SSH host keys), \`qlaunch exec ${name} -- cloud-init clean\` then \`qlaunch restart ${name}\` run that boot again`;

export interface WaitInstanceOptions {
  /** Milliseconds (default 5 min under TCG, 2 under KVM). */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Wait for `wait` on a booted instance; the console is read from `consoleOffset` (this boot's output). */
export async function waitInstance(
  config: InstanceConfig,
  paths: InstancePaths,
  runtime: RuntimeRecord,
  consoleOffset: number,
  wait: InstanceReadiness,
  options: WaitInstanceOptions = {},
): Promise<void> {
  if (wait === 'none') return;
  const timeout = options.timeout ?? defaultReadyTimeout(runtime.accel);
  const tail = tailConsole(paths.console, consoleOffset, runtime.pid);
  try {
    if (typeof wait === 'object') {
      await tail.serial.waitFor(wait.serial, { timeout, signal: options.signal });
      return;
    }
    if (wait === 'agent') {
      const { waitForAgent } = await import('../qga/index.js');
      const agent = await waitForAgent(paths.guestAgent, {
        deadline: Date.now() + timeout,
        alive: () => processAlive(runtime.pid),
        signal: options.signal,
      });
      await agent.close();
      return;
    }
    const target = sshTargetOf(config, paths, runtime);
    if (!target) {
      throw new QlaunchError(ErrorCode.VM_SSH, `instance ${config.name} has no SSH to wait for`, {
        hint: 'it boots no cloud image: wait for serial:TEXT or none instead',
      });
    }
    const guest = consoleGuest(tail.serial, { fix: (unit) => sshdFix(config.name, unit) });
    const ready = { accel: runtime.accel, timeout, signal: options.signal };
    if (wait === 'cloud-init') await waitReady(guest, target, ready);
    else await waitSshReady(guest, target, ready);
  } finally {
    tail.stop();
  }
}
