// Waiting for a started instance to be ready in the way asked: not at all, SSH, cloud-init, the guest agent, or
// text on its console — always failing fast when the guest dies or panics (or, for SSH, when its sshd cannot start).

import { ErrorCode, QlaunchError } from '../errors.js';
import { defaultReadyTimeout, waitReady, waitSshReady } from '../guest/access/ready.js';
import { consoleGuest, firstOutputBound } from '../guest/access/ready-guest.js';
import { lookOver, type RunStateLook, watchRunState } from '../guest/access/run-state.js';
import type { SshTarget } from '../guest/access/ssh-args.js';
import { tailConsole } from '../guest/console/console-log.js';
import { processAlive } from '../process-alive.js';
import { QmpClient } from '../qmp/index.js';
import type { InstanceConfig, InstanceReadiness } from './config.js';
import type { InstancePaths } from './layout.js';
import type { RuntimeRecord } from './runtime.js';

/** Parse `--wait none|ssh|cloud-init|agent|serial:TEXT` (pure). */
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
  /** ms a disk boot may write nothing on its console before VM_NOTHING_TO_BOOT (default 60 s); false: no bound. */
  firstOutputTimeout?: number | false | undefined;
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
  const watching = new AbortController();
  const fixes = { resume: `resume it: qlaunch qmp ${config.name} cont` };
  const runState = (signal: AbortSignal) => watchRunState(() => lookAt(paths), fixes, signal);
  // For the waits with no console watch of their own: a guest paused on a disk error ends them too.
  const orStuck = <T>(waiting: Promise<T>): Promise<T> => Promise.race([waiting, runState(watching.signal)]);
  // The wait that lost the race to a stuck guest is ended with the watch.
  const signal = options.signal ? AbortSignal.any([options.signal, watching.signal]) : watching.signal;
  try {
    if (typeof wait === 'object') {
      await orStuck(tail.serial.waitFor(wait.serial, { timeout, signal }));
      return;
    }
    if (wait === 'agent') {
      const { waitForAgent } = await import('../qga/index.js');
      const agent = await orStuck(
        waitForAgent(paths.guestAgent, {
          deadline: Date.now() + timeout,
          alive: () => processAlive(runtime.pid),
          signal,
        }),
      );
      await agent.close();
      return;
    }
    const target = sshTargetOf(config, paths, runtime);
    if (!target) {
      throw new QlaunchError(ErrorCode.VM_SSH, `instance ${config.name} has no SSH to wait for`, {
        hint: 'it boots no cloud image: wait for serial:TEXT or none instead',
      });
    }
    const silence = firstOutputBound(config.kernel === undefined, options.firstOutputTimeout);
    const guest = consoleGuest(tail.serial, { fix: (unit) => sshdFix(config.name, unit) }, runState, silence);
    const ready = { accel: runtime.accel, timeout, signal: options.signal };
    if (wait === 'cloud-init') await waitReady(guest, target, ready);
    else await waitSshReady(guest, target, ready);
  } finally {
    watching.abort();
    tail.stop();
  }
}

// A session per look, not one for the whole wait: QEMU serves one QMP client at a time, and `ls` needs its turn.
async function lookAt(paths: InstancePaths): Promise<RunStateLook> {
  const qmp = new QmpClient({ connectTimeout: 1000, commandTimeout: 1000 });
  try {
    await qmp.connect(paths.qmp);
    return await lookOver(qmp);
  } finally {
    qmp.destroy();
  }
}
