// A running QEMU guest: its QMP session, serial console, process, and how to stop it cleanly.

import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { VmSpec } from '../machine/spec.js';
import type { QmpClient } from '../qmp/index.js';
import type { SerialConsole, SerialMatch, WaitForSerialOptions } from './console/serial.js';
import { addForward, type Forward, type ForwardOptions, removeForward } from './ports/ports.js';
import { describeExit, type QemuExit, type QemuProcess } from './process.js';

export interface StopOptions {
  /** How long the guest gets to power off after the ACPI request, in ms (default 30 s). */
  timeout?: number | undefined;
}

export interface VmExit extends QemuExit {
  /** How the VM ended from qlaunch's point of view. */
  how: 'guest-shutdown' | 'quit' | 'killed' | 'crashed';
  /** The reason of QEMU's last SHUTDOWN event, if one came (e.g. "guest-shutdown", "host-qmp-quit"). */
  shutdownReason?: string | undefined;
}

export interface VmParts {
  spec: VmSpec;
  process: QemuProcess;
  qmp: QmpClient;
  serial: SerialConsole;
  /** Directory removed when the VM is gone (undefined when already removed). */
  runtimeDir?: string | undefined;
  /** The accelerator QEMU runs the guest with. */
  accel: 'kvm' | 'tcg';
  logger: Logger;
}

const QUIT_GRACE_MS = 3000;

export class Vm implements AsyncDisposable {
  readonly spec: VmSpec;
  readonly qmp: QmpClient;
  readonly serial: SerialConsole;
  readonly pid: number;
  readonly accel: 'kvm' | 'tcg';
  /** Resolves once QEMU is gone and its files are cleaned up; never rejects. */
  readonly exited: Promise<VmExit>;
  readonly #process: QemuProcess;
  readonly #logger: Logger;
  #how: VmExit['how'] | undefined;
  #shutdownReason: string | undefined;
  #stopping: Promise<VmExit> | undefined;

  constructor(parts: VmParts) {
    this.spec = parts.spec;
    this.qmp = parts.qmp;
    this.serial = parts.serial;
    this.pid = parts.process.pid;
    this.accel = parts.accel;
    this.#process = parts.process;
    this.#logger = parts.logger;
    this.#watchShutdown();
    this.exited = parts.process.exited.then(async (exit) => {
      const result: VmExit = { ...exit, how: this.#classify(exit), shutdownReason: this.#shutdownReason };
      this.#logger.info({ exit: result }, 'qemu exited');
      this.serial.end(
        new QlaunchError(
          ErrorCode.VM_EXITED,
          `${describeExit(exit)}${exit.stderr ? `: ${exit.stderr}` : ''}`,
          {
            hint: `last console lines:\n${this.serial.tail(15)}`,
          },
        ),
      );
      this.qmp.destroy();
      if (parts.runtimeDir) await rm(parts.runtimeDir, { recursive: true, force: true });
      return result;
    });
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** Wait for text on the serial console; fails early, with QEMU's exit status, if the VM dies first. */
  waitForSerial(pattern: string | RegExp, options: WaitForSerialOptions = {}): Promise<SerialMatch> {
    return this.serial.waitFor(pattern, options);
  }

  /** Forward a host port (127.0.0.1, a free one unless given) to `guestPort`, added live over QMP. */
  forwardPort(guestPort: number, options: ForwardOptions = {}): Promise<Forward> {
    return addForward(this.qmp, guestPort, options);
  }

  removeForward(forward: Forward): Promise<void> {
    return removeForward(this.qmp, forward);
  }

  /** Ask the guest to power off (ACPI), wait for it; then `quit`; then SIGKILL. Idempotent. */
  stop(options: StopOptions = {}): Promise<VmExit> {
    this.#stopping ??= this.#stop(options.timeout ?? 30_000);
    return this.#stopping;
  }

  /** SIGKILL QEMU now. */
  async kill(): Promise<VmExit> {
    this.#how ??= 'killed';
    this.#process.kill('SIGKILL');
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ timeout: 10_000 });
  }

  async #stop(timeout: number): Promise<VmExit> {
    if (!this.running) return this.exited;
    const gone = this.exited.then(() => true);
    const within = (ms: number) => Promise.race([gone, sleep(ms, false, { ref: false })]);
    try {
      if (!ARCH_TABLE[this.spec.arch].powerButton)
        throw new Error(`${this.spec.arch} guests have no power button`);
      const cursor = this.qmp.eventCursor();
      await this.qmp.execute('system_powerdown', undefined, { timeout: QUIT_GRACE_MS });
      // QEMU exits on its own after a guest shutdown; the SHUTDOWN event says it is coming.
      await Promise.race([gone, this.qmp.waitFor('SHUTDOWN', { since: cursor, timeout })]);
      if (await within(QUIT_GRACE_MS)) return this.exited;
    } catch (error) {
      this.#logger.debug({ err: error }, 'guest did not power off; quitting QEMU');
    }
    if (this.running) {
      this.#how ??= 'quit';
      await this.qmp.execute('quit', undefined, { timeout: QUIT_GRACE_MS }).catch(() => {});
      if (await within(QUIT_GRACE_MS)) return this.exited;
    }
    return this.kill();
  }

  #watchShutdown(): void {
    this.qmp.waitFor('SHUTDOWN').then(
      (event) => {
        const reason = (event.data as { reason?: string } | undefined)?.reason;
        this.#shutdownReason = reason;
      },
      () => {},
    );
  }

  #classify(exit: QemuExit): VmExit['how'] {
    if (this.#shutdownReason?.startsWith('guest-') && exit.exitCode === 0) return 'guest-shutdown';
    if (this.#how === 'quit' && exit.exitCode === 0) return 'quit';
    if (this.#how === 'killed') return 'killed';
    if (exit.exitCode === 0 && this.#shutdownReason) return 'quit';
    return 'crashed';
  }
}
