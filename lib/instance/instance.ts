// The named-instance library: create/open/list, start/stop/restart/remove, exec/ssh/qmp, ports, snapshots, console.
// Every CLI instance command is a thin layer over this class.

import { readdir, readlink, rm, stat } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { ARCH_TABLE } from '../arch/table.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { type SshClient, sshClient } from '../guest/access/ssh.js';
import { lastBootOffset } from '../guest/console/console-log.js';
import { addForward, removeForward } from '../guest/ports/ports.js';
import { parseUsernetForwards } from '../guest/ports/usernet.js';
import type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
import { type Logger, silentLogger } from '../logger.js';
import type { PortForward } from '../machine/spec.js';
import { parsePortForward } from '../machine/spec.js';
import { didYouMean } from '../machine/suggest.js';
import type { QmpClient } from '../qmp/index.js';
import { QmpClient as Qmp } from '../qmp/index.js';
import { type InstanceConfig, type InstanceReadiness, readInstanceConfig } from './config.js';
import { type CreateInstanceInput, type CreateInstanceOptions, createInstance } from './create.js';
import { journalLogger, teeLogger } from './journal.js';
import { INSTANCE_NAME, type InstancePaths, instancePaths, instancesRoot } from './layout.js';
import { acquireLock, type InstanceLock } from './lock.js';
import {
  processStartTicks,
  type RuntimeRecord,
  readRuntime,
  removeRuntimeFiles,
  writeRuntime,
} from './runtime.js';
import { bootInstance } from './start.js';
import { type InstanceStatus, instanceStatus } from './state.js';
import { type StopHow, type StopInstanceOptions, stopQemu } from './stop.js';
import { sshTargetOf, waitInstance } from './wait.js';

export interface InstanceOptions {
  /** Where instances live (default `<qlaunch home>/instances`). */
  root?: string | undefined;
  /** Where qlaunch logs for the caller (the instance's own qlaunch.log is always written). */
  logger?: Logger | undefined;
}

export interface StartInstanceOptions {
  /** What "started" means (default: the instance's readiness, e.g. cloud-init for cloud images). */
  wait?: InstanceReadiness | undefined;
  /** Milliseconds for the wait (default 5 min under TCG, 2 under KVM). */
  timeout?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Skip probing: this QEMU binary and accelerator (tests, benchmarks). */
  binary?: string | undefined;
  accel?: 'kvm' | 'tcg' | undefined;
}

export interface StartResult {
  /** False when it was already running (then only the wait ran). */
  started: boolean;
  pid: number;
  sshPort?: number | undefined;
  /** Milliseconds from the call to ready. */
  ms: number;
}

export interface StopResult {
  /** undefined when it was not running. */
  how?: StopHow | undefined;
  /** The state found before stopping (a crashed instance is only cleaned up). */
  was: InstanceStatus['state'];
}

export interface InstanceInfo {
  name: string;
  state: InstanceStatus['state'];
  detail: string;
  pid?: number | undefined;
  arch: string;
  cpus: number;
  memoryMiB: number;
  source: string;
  created: string;
  /** Forwards QEMU has now when running (from QEMU itself), else the ones it starts with. */
  ports: PortForward[];
  networks: string[];
  ssh?: { host: string; port: number; user: string; key: string } | undefined;
  dir: string;
}

export type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
export type { GuestExecResult as ExecResult } from '../qga/index.js';

/** The block node of the instance's overlay (argv names disks disk0, disk1, … in order; the overlay is first). */
const ROOT_NODE = 'disk0';

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
    (await instance.#journal()).info({ config }, 'created');
    return instance;
  }

  /** An existing instance by name; an unknown one is an error with the names that exist. */
  static async open(name: string, options: InstanceOptions = {}): Promise<Instance> {
    const paths = instancePaths(name, options.root);
    const config = await readInstanceConfig(paths.config).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      const known = await Instance.names(options);
      const half = await stat(paths.dir).catch(() => undefined);
      throw new QlaunchError(
        ErrorCode.INSTANCE_NOT_FOUND,
        half
          ? `instance ${name} was never finished (${paths.dir} has no instance.json)`
          : `no instance named ${name}`,
        {
          hint: half
            ? `remove it with \`qlaunch rm ${name}\` and create it again`
            : `${didYouMean(name, known)}\`qlaunch ls\` lists instances; \`qlaunch create ${name} --image …\` makes one`.trim(),
        },
      );
    });
    return new Instance(paths, config, options.logger ?? silentLogger);
  }

  /**
   * Remove instance `name`: `remove()` on a complete one; a directory a killed `create` left without its config is
   * removed as long as no command holds its lock.
   */
  static async destroy(
    name: string,
    options: InstanceOptions & { force?: boolean | undefined } = {},
  ): Promise<void> {
    let instance: Instance;
    try {
      instance = await Instance.open(name, options);
    } catch (error) {
      const paths = instancePaths(name, options.root);
      // Unfinished (no config) or damaged (a config that does not parse): removable all the same.
      const removable =
        (isQlaunchError(error, ErrorCode.INSTANCE_NOT_FOUND) ||
          isQlaunchError(error, ErrorCode.INSTANCE_CONFIG_INVALID)) &&
        (await stat(paths.dir).catch(() => undefined));
      if (!removable) throw error;
      const key = await stat(paths.lockKey).catch(() => undefined);
      const lock = key ? await acquireLock(name, paths.dir, paths.lockKey, 'remove') : undefined;
      try {
        const status = await instanceStatus(paths);
        if (status.pid !== undefined) {
          if (!options.force) {
            throw new QlaunchError(
              ErrorCode.INSTANCE_RUNNING,
              `instance ${name} is ${status.state}; not removing it`,
              {
                hint: `pass --force to stop and remove it`,
              },
            );
          }
          await stopQemu(paths, status.pid, true, {
            force: true,
            logger: options.logger ?? silentLogger,
            powerButton: false,
          });
        }
        await rm(paths.dir, { recursive: true, force: true });
      } finally {
        await lock?.release();
      }
      return;
    }
    await instance.remove(options);
  }

  /** The names of the instances under `root` (complete or not). */
  static async names(options: InstanceOptions = {}): Promise<string[]> {
    const entries = await readdir(options.root ?? instancesRoot()).catch(() => [] as string[]);
    return entries.filter((name) => INSTANCE_NAME.test(name)).sort();
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

  /** Config, state, ports and SSH details, for `ls` and `inspect`. */
  async info(): Promise<InstanceInfo> {
    const status = await this.status();
    const live = status.state === 'running' || status.state === 'paused';
    const runtime = live ? await readRuntime(this.paths.runtime) : undefined;
    const ports = live ? await this.listPorts().catch(() => this.config.ports) : this.config.ports;
    const target = sshTargetOf(this.config, this.paths, runtime);
    return {
      name: this.name,
      state: status.state,
      detail: status.detail,
      pid: status.pid,
      arch: this.config.arch,
      cpus: this.config.cpus,
      memoryMiB: this.config.memoryMiB,
      source: this.config.source,
      created: this.config.created,
      ports,
      networks: this.config.networks.map((n) => n.name),
      ssh: target && { host: target.host, port: target.port, user: target.user, key: target.privateKey },
      dir: this.paths.dir,
    };
  }

  /** Boot the instance detached (it outlives this process), then wait as asked. Already running: only waits. */
  async start(options: StartInstanceOptions = {}): Promise<StartResult> {
    const started = Date.now();
    const { runtime, consoleOffset, fresh } = await this.#locked('start', async (log) => {
      const status = await this.status();
      if (status.state === 'running' || status.state === 'paused') {
        // A start killed half-way left QEMU paused before `cont`, maybe without its record or SSH forward: finish it.
        const record = await this.#finishStart(status.pid ?? 0, log);
        if (status.state === 'paused' && status.qemuStatus === 'prelaunch') await this.qmp('cont');
        return { runtime: record, consoleOffset: await lastBootOffset(this.paths.console), fresh: false };
      }
      // Whatever a crash or a killed command left is evidence already read, never reused.
      await removeRuntimeFiles(this.paths);
      const boot = await bootInstance(this.config, this.paths, {
        logger: log,
        binary: options.binary,
        accel: options.accel,
      });
      return { ...boot, fresh: true };
    });
    try {
      await waitInstance(
        this.config,
        this.paths,
        runtime,
        consoleOffset,
        options.wait ?? this.config.readiness,
        {
          timeout: options.timeout,
          signal: options.signal,
        },
      );
    } catch (error) {
      // A guest that is slow or broken is left running for the user to look at: say so, and how to end it.
      if (!isQlaunchError(error) || !(await this.status()).pid) throw error;
      const running = `it is still running: \`qlaunch logs ${this.name}\` shows its console, \`qlaunch stop ${this.name}\` stops it`;
      // A timeout's hint is generic; any other failure's hint names its own fix, which comes first.
      const fix = error.code === ErrorCode.VM_TIMEOUT ? undefined : error.hint;
      throw new QlaunchError(error.code, `instance ${this.name} started but is not ready: ${error.message}`, {
        hint: fix ? `${fix}; ${running}` : running,
        cause: error,
      });
    }
    return { started: fresh, pid: runtime.pid, sshPort: runtime.sshPort, ms: Date.now() - started };
  }

  /** Power the guest off (ACPI, then `quit`, then signals); `force` skips the guest. Not running: cleans up only. */
  stop(options: StopInstanceOptions = {}): Promise<StopResult> {
    return this.#locked('stop', (log) => this.#stop(options, log));
  }

  async restart(options: StopInstanceOptions & StartInstanceOptions = {}): Promise<StartResult> {
    await this.stop(options);
    return this.start(options);
  }

  /** Delete the instance and its disk; a running one only with `force` (it is stopped first). */
  async remove(options: { force?: boolean | undefined } = {}): Promise<void> {
    await this.#locked('remove', async (log) => {
      const status = await this.status();
      if ((status.state === 'running' || status.state === 'paused') && !options.force) {
        throw new QlaunchError(
          ErrorCode.INSTANCE_RUNNING,
          `instance ${this.name} is ${status.state}; not removing it`,
          {
            hint: `stop it first (\`qlaunch stop ${this.name}\`), or pass --force to stop and remove it`,
          },
        );
      }
      await this.#stop({ force: true }, log);
      log.info({}, 'removing');
      await rm(this.paths.dir, { recursive: true, force: true });
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
  ): Promise<import('../qga/index.js').GuestExecResult> {
    await this.#requireRunning('exec');
    const { GuestAgent } = await import('../qga/index.js');
    const agent = await GuestAgent.connect(this.paths.guestAgent, {
      timeout: 10_000,
      signal: options.signal,
    });
    try {
      return await agent.exec([...argv], {
        input: options.input,
        timeout: options.timeout,
        signal: options.signal,
      });
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
    return this.withQmp((qmp) => qmp.execute(command as never, args as never));
  }

  /** Open a QMP session for `work` (QEMU serves one QMP client at a time: keep it short). */
  async withQmp<T>(work: (qmp: QmpClient) => Promise<T>): Promise<T> {
    await this.#requireRunning('talk to');
    const qmp = new Qmp({ connectTimeout: 10_000 });
    try {
      await qmp.connect(this.paths.qmp);
      return await work(qmp);
    } finally {
      qmp.destroy();
    }
  }

  /** Forward 127.0.0.1:HOST to the guest now (`HOST:GUEST`, or a guest port for a free host port). */
  addPort(spec: string | number): Promise<PortForward> {
    const wanted =
      typeof spec === 'number'
        ? { guestPort: spec, hostPort: 0, protocol: 'tcp' as const, hostAddress: '127.0.0.1' }
        : parsePortForward(spec);
    return this.withQmp(async (qmp) => {
      const forward = await addForward(qmp, wanted.guestPort, {
        protocol: wanted.protocol,
        hostAddress: wanted.hostAddress,
        hostPort: wanted.hostPort === 0 ? undefined : wanted.hostPort,
      });
      this.#logger.info({ forward }, 'port added');
      return forward;
    });
  }

  /** Remove the forward of host port `hostPort` (as `port ls` shows it). */
  async removePort(hostPort: number, protocol: 'tcp' | 'udp' = 'tcp'): Promise<PortForward> {
    const forward = (await this.listPorts()).find((f) => f.hostPort === hostPort && f.protocol === protocol);
    if (!forward) {
      throw new QlaunchError(
        ErrorCode.VM_PORT_FORWARD,
        `instance ${this.name} has no forward from host port ${hostPort}/${protocol}`,
        {
          hint: `\`qlaunch port ls ${this.name}\` lists its forwards`,
        },
      );
    }
    await this.withQmp((qmp) => removeForward(qmp, forward));
    return forward;
  }

  /** The forwards QEMU has now (HMP `info usernet`). */
  listPorts(): Promise<PortForward[]> {
    return this.withQmp(async (qmp) =>
      parseUsernetForwards(await qmp.execute('human-monitor-command', { 'command-line': 'info usernet' })),
    );
  }

  /** Save the running guest (RAM, devices, disk) as internal snapshot `tag` of its overlay. */
  saveSnapshot(
    tag: string,
    options: { replace?: boolean | undefined; timeout?: number | undefined } = {},
  ): Promise<SnapshotInfo> {
    this.#requireDisk();
    return this.#locked('snapshot', async (log) => {
      const { saveSnapshot } = await import('../guest/snapshot/snapshot.js');
      const info = await this.withQmp((qmp) => saveSnapshot(qmp, { tag, nodes: [ROOT_NODE], ...options }));
      log.info({ snapshot: info }, 'snapshot saved');
      return info;
    });
  }

  /** Put the running guest back to snapshot `tag` (a stopped one must be started first: RAM needs a QEMU). */
  loadSnapshot(tag: string, options: { timeout?: number | undefined } = {}): Promise<SnapshotInfo> {
    this.#requireDisk();
    return this.#locked('snapshot', async (log) => {
      const status = await this.status();
      const snapshots = await import('../guest/snapshot/snapshot.js');
      if (status.state !== 'running' && status.state !== 'paused') {
        const { loadSnapshotOffline } = await import('../guest/snapshot/snapshot-offline.js');
        return loadSnapshotOffline(this.paths.overlay, tag);
      }
      const info = await this.withQmp((qmp) =>
        snapshots.loadSnapshot(qmp, { tag, nodes: [ROOT_NODE], ...options }),
      );
      log.info({ snapshot: info }, 'snapshot loaded');
      return info;
    });
  }

  /** Delete snapshot `tag`, live or from the stopped instance's overlay. */
  deleteSnapshot(tag: string): Promise<void> {
    this.#requireDisk();
    return this.#locked('snapshot', async (log) => {
      const status = await this.status();
      if (status.state === 'running' || status.state === 'paused') {
        const { deleteSnapshot } = await import('../guest/snapshot/snapshot.js');
        await this.withQmp((qmp) => deleteSnapshot(qmp, { tag, nodes: [ROOT_NODE] }));
      } else {
        const { deleteSnapshotOffline } = await import('../guest/snapshot/snapshot-offline.js');
        await deleteSnapshotOffline(this.paths.overlay, tag);
      }
      log.info({ tag }, 'snapshot deleted');
    });
  }

  /** The snapshots of the instance's disk, running or not. */
  async listSnapshots(): Promise<SnapshotInfo[]> {
    this.#requireDisk();
    const status = await this.status();
    if (status.state === 'running' || status.state === 'paused') {
      const { listSnapshots } = await import('../guest/snapshot/snapshot.js');
      return this.withQmp((qmp) => listSnapshots(qmp, ROOT_NODE));
    }
    const { listSnapshotsOffline } = await import('../guest/snapshot/snapshot-offline.js');
    return listSnapshotsOffline(this.paths.overlay);
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

  async #stop(options: StopInstanceOptions, log: Logger): Promise<StopResult> {
    const status = await this.status();
    if (status.pid !== undefined && (status.state === 'running' || status.state === 'paused')) {
      const how = await stopQemu(this.paths, status.pid, status.state === 'paused', {
        ...options,
        logger: log,
        powerButton: ARCH_TABLE[this.config.arch].powerButton,
      });
      return { how, was: status.state };
    }
    if (status.state === 'crashed') log.warn({ detail: status.detail }, 'cleaning up after a crash');
    await removeRuntimeFiles(this.paths);
    return { was: status.state };
  }

  async #requireRunning(doing: string): Promise<RuntimeRecord | undefined> {
    const status = await this.status();
    if (status.state !== 'running' && status.state !== 'paused') {
      throw new QlaunchError(
        ErrorCode.INSTANCE_NOT_RUNNING,
        `cannot ${doing} instance ${this.name}: it is ${status.state}`,
        {
          hint: `start it with \`qlaunch start ${this.name}\``,
        },
      );
    }
    return readRuntime(this.paths.runtime);
  }

  #requireDisk(): void {
    if (!this.config.disk) {
      throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `instance ${this.name} has no disk to snapshot`, {
        hint: 'snapshots live in the qcow2 overlay of an instance made from an image',
      });
    }
  }

  /** The runtime record of running QEMU `pid`, rebuilt from QEMU itself if a killed start never wrote it. */
  async #finishStart(pid: number, log: Logger): Promise<RuntimeRecord> {
    let record = await readRuntime(this.paths.runtime);
    if (!record) {
      const kvm = (await this.qmp('query-kvm')) as { enabled: boolean };
      record = {
        pid,
        startTicks: await processStartTicks(pid),
        startedAt: new Date().toISOString(),
        binary: await readlink(`/proc/${pid}/exe`).catch(() => 'qemu'),
        accel: kvm.enabled ? 'kvm' : 'tcg',
      };
      log.warn({ runtime: record }, 'rebuilt the runtime record of an interrupted start');
    }
    if (this.config.seed && record.sshPort === undefined) {
      record.sshPort = (await this.withQmp((qmp) => addForward(qmp, 22))).hostPort;
    }
    await writeRuntime(this.paths.runtime, record);
    return record;
  }

  async #journal(): Promise<Logger> {
    return teeLogger(this.#logger, await journalLogger(this.paths.log, this.name));
  }

  /** Run `work` holding the instance lock, logging to the caller's logger and the instance's journal. */
  async #locked<T>(doing: string, work: (log: Logger) => Promise<T>): Promise<T> {
    const lock: InstanceLock = await acquireLock(this.name, this.paths.dir, this.paths.lockKey, doing);
    try {
      const log = (await this.#journal()).child({ op: doing });
      return await work(log);
    } finally {
      await lock.release();
    }
  }
}
