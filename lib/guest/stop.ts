// The one stop policy, for throwaway guests and instances alike: ask the guest to power off (ACPI, or the guest
// agent where the machine has no power button or QMP cannot be reached), then `quit` QEMU, then SIGTERM, then
// SIGKILL — each step only when the one before did not end it.

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, isQlaunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { QmpClient } from '../qmp/index.js';
import type { QemuProcess } from './process.js';

/** The defaults, documented once: how long the guest gets to power off, and each later step to take effect. */
export const STOP_DEFAULTS = { timeout: 30_000, graceMs: 3000 } as const;

export interface StopOptions {
  /** Milliseconds the guest gets to power off once asked (default 30 s). */
  timeout?: number | undefined;
  /** Skip the guest: `quit` QEMU at once (like pulling the plug, but QEMU flushes the disks). */
  force?: boolean | undefined;
}

/** How QEMU ended: the guest powered off, QEMU quit on request, or a signal ended it. */
export type StopHow = 'guest-shutdown' | 'quit' | 'terminated' | 'killed';

export interface StopTarget {
  process: QemuProcess;
  /** A connected QMP session, or undefined when QEMU's control socket cannot be reached. */
  qmp: QmpClient | undefined;
  /** The machine has a power button (ACPI or gpio-keys); without one the guest agent is asked instead. */
  powerButton: boolean;
  /** The guest agent's socket, if the guest has one. */
  guestAgent?: string | undefined;
  /** A paused guest cannot act on a power-off request: it only gets `quit`. */
  paused: boolean;
  logger: Logger;
  /** Told before each step that ends QEMU from the host (so an exit can be attributed to it). */
  onStep?: ((how: Exclude<StopHow, 'guest-shutdown'>) => void) | undefined;
}

const AGENT_CONNECT_MS = 2000;

/** True once `qemu` has exited, false if it is still there after `ms`. */
async function gone(qemu: QemuProcess, ms: number): Promise<boolean> {
  // The timer goes as soon as QEMU does: left running, it kept the process alive for the rest of `ms`.
  const timer = new AbortController();
  try {
    return await Promise.race([
      qemu.exited.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}

/** Ask the guest agent to power the guest off; false when no agent takes the request. */
async function agentPowerdown(socket: string, logger: Logger): Promise<boolean> {
  try {
    const { GuestAgent } = await import('../qga/index.js');
    const agent = await GuestAgent.connect(socket, { timeout: AGENT_CONNECT_MS });
    try {
      await agent.shutdown({ mode: 'powerdown', timeout: STOP_DEFAULTS.graceMs });
    } finally {
      await agent.close();
    }
    return true;
  } catch (error) {
    logger.warn({ err: error }, 'the guest agent did not take the power-off request');
    return false;
  }
}

/** Ask the guest to power off and wait for QEMU's SHUTDOWN event and exit; false when that did not happen. */
async function powerOff(target: StopTarget, qmp: QmpClient, timeout: number): Promise<boolean> {
  const { logger } = target;
  try {
    const cursor = qmp.eventCursor();
    const asked = target.powerButton
      ? await qmp.execute('system_powerdown', undefined, { timeout: STOP_DEFAULTS.graceMs }).then(() => true)
      : target.guestAgent !== undefined && (await agentPowerdown(target.guestAgent, logger));
    if (!asked) return false;
    // QEMU exits by itself once the guest is off (no -no-shutdown); the SHUTDOWN event says it is coming.
    const shutdown = qmp.waitFor('SHUTDOWN', { since: cursor, timeout }).catch(async (error: unknown) => {
      // QEMU 7.2's riscv virt exits at the guest's power-off with no event: QMP closes just before QEMU is gone.
      if (isQlaunchError(error, ErrorCode.QMP_CLOSED) && (await gone(target.process, STOP_DEFAULTS.graceMs)))
        return;
      throw error;
    });
    await Promise.race([target.process.exited, shutdown]);
    return await gone(target.process, STOP_DEFAULTS.graceMs);
  } catch (error) {
    logger.warn({ err: error }, 'the guest did not power off in time; quitting QEMU');
    return false;
  }
}

/** Stop QEMU by the policy above; resolves once it is gone (or SIGKILL was sent) with how it ended. */
export async function stopQemu(target: StopTarget, options: StopOptions = {}): Promise<StopHow> {
  const { process: qemu, qmp, logger } = target;
  const timeout = options.timeout ?? STOP_DEFAULTS.timeout;
  if (qmp && !options.force && !target.paused && (await powerOff(target, qmp, timeout)))
    return 'guest-shutdown';
  // QMP gone (its socket removed, say): the guest agent is the graceful path left, before any signal.
  if (!qmp && !options.force && target.guestAgent !== undefined) {
    logger.warn({}, 'QMP cannot be reached; asking the guest agent to power off');
    if ((await agentPowerdown(target.guestAgent, logger)) && (await gone(qemu, timeout)))
      return 'guest-shutdown';
  }
  const step = (how: Exclude<StopHow, 'guest-shutdown'>) => target.onStep?.(how);
  if (qmp && qemu.running) {
    step('quit');
    await qmp.execute('quit', undefined, { timeout: STOP_DEFAULTS.graceMs }).catch(() => {});
    if (await gone(qemu, STOP_DEFAULTS.graceMs)) return 'quit';
  }
  if (!qmp) logger.warn({}, 'QMP cannot be reached; signalling QEMU');
  // SIGTERM is QEMU's own clean quit (it flushes disks and removes its pidfile); SIGKILL is the last resort.
  if (!qemu.running) return 'terminated';
  step('terminated');
  qemu.kill('SIGTERM');
  if (await gone(qemu, STOP_DEFAULTS.graceMs)) return 'terminated';
  step('killed');
  qemu.kill('SIGKILL');
  await gone(qemu, STOP_DEFAULTS.graceMs);
  return 'killed';
}
