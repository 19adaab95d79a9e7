// The named-instance library: create/open/list, start/stop/restart/remove, exec/ssh/qmp, ports, snapshots, console,
// logs. Every CLI instance command is a thin layer over this class; each operation lives in a module of its own.

import { rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type SshClient, sshClient } from '../guest/access/ssh.js';
import { type ScreenFormat, screendump } from '../guest/screen.js';
import type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
import { type Logger, silentLogger } from '../logger.js';
import type { PortForward } from '../machine/spec.js';
import { publishNames } from '../network/names.js';
import { leaveAllNetworks } from '../network/store.js';
import type { GuestExecResult } from '../qga/index.js';
import type { QmpClient } from '../qmp/index.js';
import type { InstanceConfig } from './config.js';
import { type CreateInstanceInput, type CreateInstanceOptions, createInstance } from './create.js';
import { type InstanceInfo, instanceInfo } from './info.js';
import { openJournal, teeLogger } from './journal.js';
import { type InstancePaths, instancePaths, networksDirFor } from './layout.js';
import { type StartInstanceOptions, type StartResult, startInstance } from './lifecycle.js';
import { acquireLock } from './lock.js';
import { type ReadLogOptions, readLog } from './logs.js';
import { addPort, listForwards, removePort } from './ports.js';
import { explainDenied } from './qmp-denied.js';
import { destroyUnusable, instanceNames, isUnusable, readInstance } from './registry.js';
import { readRuntime } from './runtime.js';
import { notRunning, withGuest } from './session.js';
import * as snapshots from './snapshots.js';
import { type InstanceStatus, instanceStatus, liveQemu } from './state.js';
import { type StopHow, type StopInstanceOptions, stopOrCleanUp } from './stop.js';
import { sshTargetOf } from './wait.js';

export type { StartInstanceOptions, StartResult } from './lifecycle.js';

export interface InstanceOptions {
  /** Where instances live (default `<qlaunch home>/instances`). */
  root?: string | undefined;
  /** Where qlaunch logs for the caller (the instance's own qlaunch.log is always written). */
  logger?: Logger | undefined;
}

export interface StopResult {
  /** undefined when it was not running. */
  how?: StopHow | undefined;
  /** The state found before stopping (a crashed instance is only cleaned up). */
  was: InstanceStatus['state'];
}

export type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
export type { GuestExecResult as ExecResult } from '../qga/index.js';
export type { InstanceInfo } from './info.js';

export class Instance {
  readonly name: string;
  readonly paths: InstancePaths;
  readonly config: InstanceConfig;
  readonly #logger: Logger;

  private constructor(paths: InstancePaths, config: InstanceConfig, logger: Logger) {
    this.name = config.name;
    this.paths = paths;
    this.config = config;
    this.#logger = logger;
  }

  /** Make a new instance (it is left stopped: `start()` boots it). */
  static async create(
    input: CreateInstanceInput,
    options: InstanceOptions & Pick<CreateInstanceOptions, 'onProgress' | 'signal'> = {},
  ): Promise<Instance> {
    const { paths, config } = await createInstance(input, options);
    const instance = new Instance(paths, config, options.logger ?? silentLogger);
    await instance.#withJournal(async (log) => log.info({ config }, 'created'));
    return instance;
  }

  /** An existing instance by name; an unknown one is an error with the names that exist. */
  static async open(name: string, options: InstanceOptions = {}): Promise<Instance> {
    const { paths, config } = await readInstance(name, options.root);
    return new Instance(paths, config, options.logger ?? silentLogger);
  }

  /** Remove instance `name`: `remove()` on a complete one; an unfinished or damaged one by its directory. */
  static async destroy(
    name: string,
    options: InstanceOptions & { force?: boolean | undefined } = {},
  ): Promise<void> {
    let instance: Instance;
    try {
      instance = await Instance.open(name, options);
    } catch (error) {
      // Unfinished (no config) or damaged (a config that does not parse): removable all the same.
      const dir = instancePaths(name, options.root).dir;
      if (isUnusable(error) && !(await stat(dir).catch(() => undefined))) {
        // No directory, yet a network may still hold an address for the name (its directory removed by hand).
        const left = await leaveAllNetworks(name, { dir: networksDirFor(dirname(dir)) });
        if (left.length > 0) return;
      }
      if (!isUnusable(error) || !(await stat(dir).catch(() => undefined))) throw error;
      await destroyUnusable(name, { ...options, logger: options.logger ?? silentLogger });
      return;
    }
    await instance.remove(options);
  }

  /** The names of the instances under `root` (complete or not). */
  static names(options: InstanceOptions = {}): Promise<string[]> {
    return instanceNames(options.root);
  }

  /** Every instance with its state; damaged ones are listed with the problem instead of failing the listing. */
  static async list(
    options: InstanceOptions = {},
  ): Promise<(InstanceInfo | { name: string; error: string })[]> {
    const names = await Instance.names(options);
    return Promise.all(
      names.map(async (name) => {
        try {
          return await (await Instance.open(name, options)).info();
        } catch (error) {
          return { name, error: (error as Error).message };
        }
      }),
    );
  }

  status(): Promise<InstanceStatus> {
    return instanceStatus(this.paths);
  }

  /** Config, state, ports and SSH details, for `ls` and `inspect`: one QMP session when it runs. */
  info(): Promise<InstanceInfo> {
    return instanceInfo(this, this.#logger);
  }

  /** Boot the instance detached (it outlives this process), then wait as asked. Already running: only waits. */
  async start(options: StartInstanceOptions = {}): Promise<StartResult> {
    const result = await startInstance(this, options, (doing, work) => this.#locked(doing, work));
    // Names go in through the guest agent: a start that waits for nothing leaves them to the next one that waits.
    if (this.config.networks.length > 0 && (options.wait ?? this.config.readiness) !== 'none') {
      await this.#withJournal((logger) =>
        publishNames(this.name, { dir: networksDirFor(dirname(this.paths.dir)), logger }),
      );
    }
    return result;
  }

  /** Power the guest off by the one stop policy; `force` skips the guest. Not running: cleans up only. */
  stop(options: StopInstanceOptions = {}): Promise<StopResult> {
    return this.#locked('stop', (log) => stopOrCleanUp(this, options, log));
  }

  async restart(options: StopInstanceOptions & StartInstanceOptions = {}): Promise<StartResult> {
    await this.stop(options);
    return this.start(options);
  }

  /** Freeze the guest's vCPUs (QMP `stop`); its state becomes paused until `resume()`. */
  async pause(): Promise<void> {
    await this.withQmp((qmp) => qmp.execute('stop'));
  }

  /** Let a paused guest run again (QMP `cont`). */
  async resume(): Promise<void> {
    await this.withQmp((qmp) => qmp.execute('cont'));
  }

  /** Delete the instance and its disk; a running one only with `force` (it is stopped first). */
  async remove(options: { force?: boolean | undefined } = {}): Promise<void> {
    await this.#locked('remove', async (log) => {
      const { livePid } = await liveQemu(this.paths);
      if (livePid !== undefined && !options.force) {
        const { state } = await this.status();
        throw new QlaunchError(
          ErrorCode.INSTANCE_RUNNING,
          `instance ${this.name} is ${state}; not removing it`,
          {
            hint: `stop it first (\`qlaunch stop ${this.name}\`), or pass --force to stop and remove it`,
          },
        );
      }
      // Stopped and checked under the lock: no QEMU is left on the directory about to go.
      await stopOrCleanUp(this, { force: true }, log, 'remove');
      log.info({}, 'removing');
      await rm(this.paths.dir, { recursive: true, force: true });
      await leaveAllNetworks(this.name, { dir: networksDirFor(dirname(this.paths.dir)) });
    });
  }

  /** Run `argv` in the guest through qemu-guest-agent (no shell: argv[0] is the program). */
  async exec(
    argv: readonly string[],
    options: {
      input?: string | Buffer | undefined;
      timeout?: number | undefined;
      signal?: AbortSignal | undefined;
    } = {},
  ): Promise<GuestExecResult> {
    await this.#requireRunning('exec');
    const { GuestAgent } = await import('../qga/index.js');
    const agent = await GuestAgent.connect(this.paths.guestAgent, {
      timeout: 10_000,
      signal: options.signal,
    });
    try {
      return await agent.exec([...argv], options);
    } finally {
      await agent.close();
    }
  }

  /** An SSH client for the running guest (its own key, host key pinned in the instance directory). */
  async ssh(): Promise<SshClient> {
    await this.#requireRunning('ssh to');
    const target = sshTargetOf(this.config, this.paths, await readRuntime(this.paths.runtime));
    if (!target) {
      throw new QlaunchError(ErrorCode.VM_SSH, `instance ${this.name} has no SSH`, {
        hint: 'it boots no cloud image; use `qlaunch console` or `qlaunch exec` instead',
      });
    }
    return sshClient(target);
  }

  /** Run one QMP command on the running instance and return its result. */
  async qmp(command: string, args?: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.withQmp((qmp) => qmp.execute(command as never, args as never));
    } catch (error) {
      throw await explainDenied(this.paths, this.name, error);
    }
  }

  /** A still picture of the running instance's screen (PNG, or raw `ppm`); VM_NO_SCREEN without `--display vnc`. */
  screenshot(options: { format?: ScreenFormat | undefined } = {}): Promise<Buffer> {
    return withGuest(this, 'take a screenshot of', this.#logger, (guest) =>
      screendump(guest.qmp, guest.pid, { ...options, what: `instance ${this.name}` }),
    );
  }

  /** One QMP session for `work` (QEMU serves one QMP client at a time: keep it short). */
  withQmp<T>(work: (qmp: QmpClient) => Promise<T>): Promise<T> {
    return withGuest(this, 'talk to', this.#logger, (guest) => work(guest.qmp));
  }

  /** Forward 127.0.0.1:HOST to the guest now (`HOST:GUEST`, or a guest port for a free host port). */
  async addPort(spec: string | number): Promise<PortForward> {
    const forward = await this.withQmp((qmp) => addPort(qmp, spec));
    this.#logger.info({ forward }, 'port added');
    return forward;
  }

  /** Remove the forward of host port `hostPort` (as `port ls` shows it). */
  removePort(hostPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<PortForward> {
    return this.withQmp((qmp) => removePort(qmp, this.name, hostPort, protocol));
  }

  /** The forwards QEMU has now (HMP `info usernet`). */
  listPorts(): Promise<PortForward[]> {
    return this.withQmp(listForwards);
  }

  /** Save the running guest (RAM, devices, disk) as internal snapshot `tag` of its overlay. */
  saveSnapshot(
    tag: string,
    options: { replace?: boolean | undefined; timeout?: number | undefined } = {},
  ): Promise<SnapshotInfo> {
    this.#requireDisk();
    return this.#locked('snapshot', (log) => snapshots.save(this, tag, options, log));
  }

  /** Put the guest back to snapshot `tag`: live when it runs, else in the stopped overlay. */
  loadSnapshot(tag: string, options: { timeout?: number | undefined } = {}): Promise<SnapshotInfo> {
    this.#requireDisk();
    return this.#locked('snapshot', (log) => snapshots.load(this, tag, options, log));
  }

  /** Delete snapshot `tag`, live or from the stopped instance's overlay. */
  deleteSnapshot(tag: string): Promise<void> {
    this.#requireDisk();
    return this.#locked('snapshot', (log) => snapshots.remove(this, tag, log));
  }

  /** The snapshots of the instance's disk, running or not. */
  listSnapshots(): Promise<SnapshotInfo[]> {
    this.#requireDisk();
    return snapshots.list(this, this.#logger);
  }

  /** The serial console's socket (one client at a time); the caller pipes it to a terminal. */
  async console(): Promise<Socket> {
    await this.#requireRunning('attach to');
    return new Promise((resolve, reject) => {
      const socket = connect(this.paths.serial);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  /** The instance's console log (or QEMU's output, or qlaunch's journal), whole, its last lines, or followed. */
  logs(options: ReadLogOptions = {}): AsyncGenerator<Buffer> {
    return readLog(this.paths, options);
  }

  /** QEMU runs (no QMP needed to know it: the agent, SSH and the console do not go through it). */
  async #requireRunning(doing: string): Promise<void> {
    if ((await liveQemu(this.paths)).livePid !== undefined) return;
    throw notRunning(this.name, doing, (await this.status()).state);
  }

  #requireDisk(): void {
    if (!this.config.disk) {
      throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `instance ${this.name} has no disk to snapshot`, {
        hint: 'snapshots live in the qcow2 overlay of an instance made from an image',
      });
    }
  }

  /** Run `work` logging to the caller's logger and the instance's journal, which is closed after. */
  async #withJournal<T>(work: (log: Logger) => Promise<T>): Promise<T> {
    const journal = await openJournal(this.paths.log, this.name);
    try {
      return await work(teeLogger(this.#logger, journal.logger));
    } finally {
      await journal.close();
    }
  }

  /** Run `work` holding the instance lock, logging to the caller's logger and the instance's journal. */
  async #locked<T>(doing: string, work: (log: Logger) => Promise<T>): Promise<T> {
    const lock = await acquireLock(this.name, this.paths.dir, this.paths.lockKey, doing);
    try {
      return await this.#withJournal((log) => work(log.child({ op: doing })));
    } finally {
      await lock.release();
    }
  }
}
