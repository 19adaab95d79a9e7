// Stopping an instance's QEMU: ACPI power-off and QEMU's SHUTDOWN event, then `quit`, then SIGTERM/SIGKILL —
// each step only when the one before did not end it.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { processAlive } from '../process-alive.js';
import { QmpClient } from '../qmp/index.js';
import type { InstancePaths } from './layout.js';
import { removeRuntimeFiles } from './runtime.js';

export interface StopInstanceOptions {
  /** Milliseconds the guest gets to power off after the ACPI request (default 60 s). */
  timeout?: number | undefined;
  /** Skip the guest: `quit` QEMU at once (like pulling the plug, but QEMU flushes the disk). */
  force?: boolean | undefined;
}

interface StopContext extends StopInstanceOptions {
  logger: Logger;
  /** The machine has a power button (ACPI/gpio-keys); without one, the guest agent is asked instead. */
  powerButton: boolean;
}

export type StopHow = 'guest-shutdown' | 'quit' | 'terminated' | 'killed';

const GRACE_MS = 3000;
const AGENT_CONNECT_MS = 2000;

/** Wait until `pid` is gone, up to `ms`; true when it is. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() >= until) return false;
    await sleep(25);
  }
  return true;
}

/** Stop QEMU `pid` of a running or paused instance (caller holds the lock) and remove its runtime files. */
export async function stopQemu(
  paths: InstancePaths,
  pid: number,
  paused: boolean,
  options: StopContext,
): Promise<StopHow> {
  const how = await shutDown(paths, pid, paused, options);
  await removeRuntimeFiles(paths);
  options.logger.info({ how }, 'instance stopped');
  return how;
}

/** Ask the guest agent to power the guest off; false when no agent answers. */
async function agentPowerdown(socket: string, logger: Logger): Promise<boolean> {
  try {
    const { GuestAgent } = await import('../qga/index.js');
    const agent = await GuestAgent.connect(socket, { timeout: AGENT_CONNECT_MS });
    try {
      await agent.shutdown({ mode: 'powerdown', timeout: GRACE_MS });
    } finally {
      await agent.close();
    }
    return true;
  } catch (error) {
    logger.warn({ err: error }, 'the guest agent did not take the power-off request');
    return false;
  }
}

async function shutDown(
  paths: InstancePaths,
  pid: number,
  paused: boolean,
  options: StopContext,
): Promise<StopHow> {
  const qmp = new QmpClient({ connectTimeout: GRACE_MS, commandTimeout: GRACE_MS });
  try {
    await qmp.connect(paths.qmp);
    // A paused guest cannot act on the power button: only a running one gets the chance to shut down cleanly.
    if (!options.force && !paused) {
      const cursor = qmp.eventCursor();
      const asked = options.powerButton
        ? await qmp.execute('system_powerdown').then(() => true)
        : await agentPowerdown(paths.guestAgent, options.logger);
      const timeout = options.timeout ?? 60_000;
      try {
        if (asked) {
          await qmp.waitFor('SHUTDOWN', { since: cursor, timeout });
          // Without -no-shutdown, QEMU exits by itself once the guest is off.
          if (await gone(pid, GRACE_MS)) return 'guest-shutdown';
        }
      } catch (error) {
        options.logger.warn({ err: error }, 'the guest did not power off in time; quitting QEMU');
      }
    }
    await qmp.execute('quit').catch(() => {});
    if (await gone(pid, GRACE_MS)) return 'quit';
  } catch (error) {
    options.logger.warn({ err: error }, 'QMP did not answer; signalling QEMU');
  } finally {
    qmp.destroy();
  }
  // SIGTERM is QEMU's own clean quit (it flushes disks and removes its pidfile); SIGKILL is the last resort.
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'terminated';
  }
  if (await gone(pid, GRACE_MS)) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  await gone(pid, GRACE_MS);
  return 'killed';
}
