// A running guest — kernel or cloud image, throwaway or an instance's — as one handle: its QEMU process, QMP session,
// console, readiness, port forwards, commands and files in the guest, and the one stop policy.

import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResolvedMachine } from '../machine/resolve.js';
import type { PortForward, VmSpec } from '../machine/spec.js';
import type { QmpClient } from '../qmp/index.js';
import {
  copyIntoGuest,
  copyOutOfGuest,
  execInGuest,
  type GuestAccess,
  type GuestCommandResult,
  type GuestExecOptions,
  unsupported,
} from './access/commands.js';
import { type CloudInitResult, waitReady } from './access/ready.js';
import { consoleGuest, firstOutputBound } from './access/ready-guest.js';
import { lookOver, watchRunState } from './access/run-state.js';
import type { SshClient } from './access/ssh.js';
import type { SerialConsole, SerialMatch, WaitForSerialOptions } from './console/serial.js';
import { addForward, type Forward, type ForwardOptions, removeForward } from './ports/ports.js';
import { listForwards } from './ports/usernet.js';
import { describeExit, type QemuExit, type QemuProcess } from './process.js';
import { type ScreenFormat, screendump } from './screen.js';
import { type StopHow, type StopOptions, stopQemu } from './stop.js';

export type { GuestCommandResult, GuestExecOptions } from './access/commands.js';
export type { StopOptions } from './stop.js';

export interface GuestExit extends QemuExit {
  /**
   * How the guest ended from qlaunch's point of view: its own stop (`quit`, `terminated`, `killed`), the guest powering
   * off, a signal from outside qlaunch that QEMU quit on (`signalled`, see `hostSignal`), or a crash.
   */
  how: StopHow | 'signalled' | 'crashed';
  /** The signal QEMU quit on when `how` is `signalled` (e.g. SIGTERM from `kill`), when QEMU said which. */
  hostSignal?: string | undefined;
  /** The reason of QEMU's last SHUTDOWN event, if one came (e.g. "guest-shutdown", "host-qmp-quit"). */
  shutdownReason?: string | undefined;
  /** A rootfs guest's command: its exit status, when the guest got to report one. */
  commandExitCode?: number | undefined;
}

/** What a cloud guest has besides QEMU: SSH, the run directory behind it, and what it was made from. */
export interface CloudParts {
  ssh: SshClient;
  machine: ResolvedMachine;
  /** The run's private directory (overlay, seed, keys, agent socket). */
  dir: string;
  /** Keep `dir` after the guest is gone (default: delete it). */
  keep: boolean;
  readyTimeout?: number | undefined;
  /** ms a guest booting from its disk may write nothing on its console (default 60 s); false: no bound. */
  firstOutputTimeout?: number | false | undefined;
}

/** A guest booted from a cloud image: SSH and its run directory are always there. */
export type CloudGuest = Guest & {
  readonly ssh: SshClient;
  readonly dir: string;
  readonly machine: ResolvedMachine;
};

export interface GuestParts {
  spec: VmSpec;
  process: QemuProcess;
  qmp: QmpClient;
  /** False when the QMP session could not be opened (the guest is then stopped through its agent and signals). */
  qmpReachable?: boolean | undefined;
  /** The live console; undefined for a guest re-attached by another command (an instance's console is its log). */
  console?: SerialConsole | undefined;
  /** The guest agent's socket, when the guest has one. */
  guestAgent?: string | undefined;
  /** The VNC server's unix socket, when the guest has a screen. */
  vncSocket?: string | undefined;
  /** The accelerator QEMU runs the guest with. */
  accel: 'kvm' | 'tcg';
  logger: Logger;
  cloud?: CloudParts | undefined;
  /** Run once QEMU has exited, before `exited` resolves (ends the VM's other processes, e.g. virtiofsd). */
  onExit?: (() => Promise<void>) | undefined;
  /** A rootfs guest: reads its command's exit status once QEMU has exited (before `onExit`). */
  commandStatus?: (() => Promise<number | undefined>) | undefined;
}

export class Guest implements AsyncDisposable {
  readonly spec: VmSpec;
  readonly qmp: QmpClient;
  readonly pid: number;
  readonly accel: 'kvm' | 'tcg';
  /** SSH to the guest (cloud images); undefined for kernel guests. */
  readonly ssh: SshClient | undefined;
  /** The machine a cloud guest was made from. */
  readonly machine: ResolvedMachine | undefined;
  /** A cloud guest's run directory (overlay, seed, key). */
  readonly dir: string | undefined;
  /** The VNC server's unix socket (0600), when the guest has a screen (`display: 'vnc'`). */
  readonly vncSocket: string | undefined;
  /** Resolves once QEMU is gone and its files are cleaned up; never rejects. */
  readonly exited: Promise<GuestExit>;
  readonly #console: SerialConsole | undefined;
  readonly #process: QemuProcess;
  readonly #parts: GuestParts;
  #how: StopHow | undefined;
  #shutdownReason: string | undefined;
  #stopping: Promise<GuestExit> | undefined;

  constructor(parts: GuestParts) {
    this.spec = parts.spec;
    this.qmp = parts.qmp;
    this.pid = parts.process.pid;
    this.accel = parts.accel;
    this.ssh = parts.cloud?.ssh;
    this.machine = parts.cloud?.machine;
    this.dir = parts.cloud?.dir;
    this.vncSocket = parts.vncSocket;
    this.#console = parts.console;
    this.#process = parts.process;
    this.#parts = parts;
    this.#watchShutdown();
    this.exited = parts.process.exited.then(async (exit) => {
      const how = this.#classify(exit);
      const result: GuestExit = {
        ...exit,
        how,
        ...(how === 'signalled' && { hostSignal: signalQemuQuitOn(exit.stderr) }),
        shutdownReason: this.#shutdownReason,
      };
      parts.logger.info({ exit: result }, 'qemu exited');
      this.#console?.end(
        new QlaunchError(
          ErrorCode.VM_EXITED,
          `${describeExit(exit)}${exit.stderr ? `: ${exit.stderr}` : ''}`,
          {
            hint: `last console lines:\n${this.#console.tail(15)}`,
          },
        ),
      );
      this.qmp.destroy();
      const commandExitCode = await parts.commandStatus?.();
      if (commandExitCode !== undefined) result.commandExitCode = commandExitCode;
      await parts.onExit?.();
      if (parts.cloud && !parts.cloud.keep) await rm(parts.cloud.dir, { recursive: true, force: true });
      return result;
    });
  }

  /** The serial console (output history, waits, a byte stream); kernel and cloud guests alike. */
  get console(): SerialConsole {
    if (!this.#console) {
      throw unsupported(
        'this guest has no console here',
        'it was started by another command and its console is not attached',
        'read its console log instead (`qlaunch logs NAME`)',
      );
    }
    return this.#console;
  }

  get running(): boolean {
    return this.#process.running;
  }

  /** Wait for text on the serial console; fails early, with QEMU's exit status, if the guest dies first. */
  waitForSerial(pattern: string | RegExp, options: WaitForSerialOptions = {}): Promise<SerialMatch> {
    return this.console.waitFor(pattern, options);
  }

  /** Forward a host port (127.0.0.1, a free one unless given) to `guestPort`, added live over QMP. */
  forwardPort(guestPort: number, options: ForwardOptions = {}): Promise<Forward> {
    return addForward(this.qmp, guestPort, options);
  }

  /** The forwards QEMU has now, with the real host port of one asked for as port 0. */
  listForwards(): Promise<PortForward[]> {
    return listForwards(this.qmp);
  }

  removeForward(forward: Forward): Promise<void> {
    return removeForward(this.qmp, forward);
  }

  /**
   * SSH accepts the key and cloud-init has finished; fails fast on a kernel panic, QEMU exit, a disk error, or a
   * disk boot that writes nothing on the console within `firstOutputTimeout` (VM_NOTHING_TO_BOOT).
   */
  waitReady(
    options: {
      timeout?: number | undefined;
      signal?: AbortSignal | undefined;
      firstOutputTimeout?: number | false | undefined;
    } = {},
  ): Promise<CloudInitResult> {
    const cloud = this.#parts.cloud;
    if (!cloud) {
      return Promise.reject(
        unsupported(
          'a kernel guest has no readiness check',
          'it has no SSH and no cloud-init',
          'wait for a console line instead: waitForSerial(TEXT)',
        ),
      );
    }
    const runState = (signal: AbortSignal) =>
      watchRunState(() => lookOver(this.qmp), { resume: "resume it with guest.qmp.execute('cont')" }, signal);
    const silence = firstOutputBound(
      this.spec.kernel === undefined,
      options.firstOutputTimeout ?? cloud.firstOutputTimeout,
    );
    return waitReady(consoleGuest(this.console, {}, runState, silence), cloud.ssh.target, {
      accel: this.accel,
      timeout: options.timeout ?? cloud.readyTimeout,
      signal: options.signal,
    });
  }

  /** Run `argv` in the guest (no shell: argv[0] is the program), over the guest agent if it has one, else SSH. */
  exec(argv: readonly string[], options: GuestExecOptions = {}): Promise<GuestCommandResult> {
    return execInGuest(this.#access, argv, options);
  }

  /** Copy host file `hostPath` to `guestPath` in the guest (made or replaced). */
  copyIn(hostPath: string, guestPath: string): Promise<void> {
    return copyIntoGuest(this.#access, hostPath, guestPath);
  }

  /** Copy `guestPath` from the guest to host file `hostPath`, byte for byte. */
  copyOut(guestPath: string, hostPath: string): Promise<void> {
    return copyOutOfGuest(this.#access, guestPath, hostPath);
  }

  /** Power the guest off by the one stop policy (guest, then `quit`, then signals). Idempotent. */
  stop(options: StopOptions = {}): Promise<GuestExit> {
    this.#stopping ??= this.#stop(options);
    return this.#stopping;
  }

  /** A still picture of the screen (PNG, or raw `ppm`); VM_NO_SCREEN for a guest without one (`display: 'vnc'`). */
  screenshot(options: { format?: ScreenFormat | undefined } = {}): Promise<Buffer> {
    const what = this.spec.name ? `guest ${this.spec.name}` : undefined;
    return screendump(this.qmp, this.pid, { ...options, what });
  }
  /** SIGKILL QEMU now. */
  async kill(): Promise<GuestExit> {
    this.#how ??= 'killed';
    this.#process.kill('SIGKILL');
    return this.exited;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** End this handle's sessions but leave QEMU running (an instance's start hands the guest over). */
  detach(): void {
    this.qmp.destroy();
  }

  get #access(): GuestAccess {
    return { guestAgent: this.#parts.guestAgent, ssh: this.ssh };
  }

  async #stop(options: StopOptions): Promise<GuestExit> {
    if (!this.running) return this.exited;
    const qmp = this.#parts.qmpReachable === false ? undefined : this.qmp;
    const status = await qmp?.execute('query-status', undefined, { timeout: 3000 }).catch(() => undefined);
    const how = await stopQemu(
      {
        process: this.#process,
        qmp,
        powerButton: ARCH_TABLE[this.spec.arch].powerButton,
        guestAgent: this.#parts.guestAgent,
        paused: status !== undefined && !status.running,
        logger: this.#parts.logger,
        onStep: (how) => {
          this.#how = how;
        },
      },
      options,
    );
    // The policy knows how it ended QEMU; an adopted QEMU's exit status cannot be read to tell.
    return { ...(await this.exited), how };
  }

  #watchShutdown(): void {
    this.qmp.waitFor('SHUTDOWN').then(
      (event) => {
        this.#shutdownReason = (event.data as { reason?: string } | undefined)?.reason;
      },
      () => {},
    );
  }

  #classify(exit: QemuExit): GuestExit['how'] {
    if (this.#how === 'killed') return 'killed';
    const clean = exit.exitCode === 0;
    if (clean && this.#shutdownReason?.startsWith('guest-')) return 'guest-shutdown';
    if (this.#how === 'terminated' || (this.#how === 'quit' && clean)) return this.#how;
    // QEMU quits cleanly on SIGTERM, SIGINT and SIGHUP: one qlaunch did not send is that signal, not a stop of ours.
    // Its stderr line counts too: the exit can be seen before the SHUTDOWN event that says so.
    if (clean && (this.#shutdownReason === 'host-signal' || signalQemuQuitOn(exit.stderr)))
      return 'signalled';
    if (clean && this.#shutdownReason) return 'quit';
    // A machine whose power-off just exits QEMU: a clean exit nobody asked for is the guest's own.
    if (clean && this.#how === undefined && !ARCH_TABLE[this.spec.arch].powerOffEvent)
      return 'guest-shutdown';
    return 'crashed';
  }
}

/** The signal QEMU names in its "terminating on signal N from pid …" line, as SIGTERM; undefined without one. */
function signalQemuQuitOn(stderr: string): string | undefined {
  const number = /terminating on signal (\d+)/.exec(stderr)?.[1];
  if (number === undefined) return undefined;
  const name = Object.entries(constants.signals).find(([, value]) => value === Number(number))?.[0];
  return name ?? `signal ${number}`;
}
