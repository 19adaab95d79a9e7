// The one way a guest boots: QEMU spawned paused, QMP (and the console) connected, forwards added, then resumed.
// A boot that fails leaves no QEMU and no runtime files behind, and says what QEMU said.

import { chmod, rm } from 'node:fs/promises';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type ArgvPlan, buildQemuArgv } from '../qemu/argv.js';
import type { QmpClient } from '../qmp/index.js';
import type { SerialConsole } from './console/serial.js';
import type { CloudParts, Guest } from './guest.js';
import type { Forward } from './ports/ports.js';
import { describeExit, type QemuProcess, spawnQemu } from './process.js';
import { connectWithRetry } from './unix-socket.js';

/** How long QEMU gets to open its QMP socket, by default. */
const DEFAULT_START_TIMEOUT_MS = 30_000;
// How long a QEMU killed after a failed boot gets to be gone before its files are removed anyway.
const KILL_GRACE_MS = 3000;

export interface BootPlan {
  /** The argv plan: spec, binary, accelerator, firmware and the socket paths. */
  argv: ArgvPlan;
  /**
   * `attached`: our child, dying with us, its console connected (throwaway guests); `detached`: its own session,
   * output to `logFile`, outliving us (instances).
   */
  mode: { kind: 'attached' } | { kind: 'detached'; logFile: string };
  /** Attached boots: removed once every socket is connected, so nothing is left on disk even if we are killed. */
  runtimeDir?: string | undefined;
  /** Attached boots: directories removed if this process is killed with QEMU running (a throwaway run's files). */
  removeOnDeath?: readonly string[] | undefined;
  /** Guest ports to forward from a free 127.0.0.1 port before the guest runs (e.g. 22 for SSH). */
  forwards?: readonly number[] | undefined;
  /** Milliseconds for QEMU to open QMP (default 30 s). */
  startTimeout?: number | undefined;
  /** Called once QEMU runs, before anything waits on it (an instance records its pid here). */
  onSpawned?: ((qemu: QemuProcess) => Promise<void>) | undefined;
  /** Open fds QEMU inherits as 3, 4, …. */
  fds?: readonly number[] | undefined;
  /** Called once QMP is up, before forwards are added (a warm clone loads its state here). */
  onQmp?: ((qmp: QmpClient) => Promise<void>) | undefined;
  /** Called with the forwards, before the guest is resumed. */
  onForwards?: ((forwards: Forward[]) => Promise<void>) | undefined;
  /** What QEMU said when it failed, when its output went to a log file. */
  qemuSaid?: (() => Promise<string>) | undefined;
  /** Who is booting, for messages (default "QEMU"). */
  what?: string | undefined;
  /** A cloud guest's parts, given the forwards made (SSH's among them). */
  cloud?: ((forwards: Forward[]) => CloudParts) | undefined;
  /** Run once QEMU has exited, however it ended (the guest's other processes end here). */
  onExit?: (() => Promise<void>) | undefined;
  /** A rootfs guest: reads its command's exit status once QEMU has exited. */
  commandStatus?: (() => Promise<number | undefined>) | undefined;
  logger: Logger;
}

/** Boot `plan`: resolves with a running guest whose QMP session is open. */
export async function bootGuest(plan: BootPlan): Promise<Guest> {
  const { logger } = plan;
  const command = buildQemuArgv(plan.argv);
  logger.debug({ argv: [command.file, ...command.args] }, 'starting qemu');
  const qemu = await spawnQemu(
    command,
    plan.mode.kind === 'detached'
      ? { mode: 'detached', logFile: plan.mode.logFile, fds: plan.fds }
      : {
          mode: 'attached',
          dropsUser: plan.argv.confinement?.runAs !== undefined,
          fds: plan.fds,
          removeOnDeath: plan.removeOnDeath,
        },
  );
  // Loaded after the spawn, so this work overlaps QEMU's own start-up.
  const [{ QmpClient }, { SerialConsole }, { Guest }, { addForward }] = await Promise.all([
    import('../qmp/index.js'),
    import('./console/serial.js'),
    import('./guest.js'),
    import('./ports/ports.js'),
  ]);
  const qmp: QmpClient = new QmpClient({ logger: logger.child({ component: 'qmp' }) });
  try {
    if (qemu.pid < 0) throw new Error(`could not run ${command.file}`);
    await plan.onSpawned?.(qemu);
    const deadline = Date.now() + (plan.startTimeout ?? DEFAULT_START_TIMEOUT_MS);
    const alive = () => qemu.running;
    const socket = await connectWithRetry(plan.argv.qmpSocket, { deadline, alive });
    if (!socket) {
      throw new Error(
        alive() ? 'QEMU did not open its QMP socket in time' : 'QEMU exited before opening its QMP socket',
      );
    }
    await qmp.connect(socket, { timeout: Math.max(1000, deadline - Date.now()) });
    let console: SerialConsole | undefined;
    if (plan.mode.kind === 'attached') {
      const serial = await connectWithRetry(plan.argv.serialSocket, { deadline, alive });
      if (!serial) throw new Error('QEMU did not open its serial console socket');
      console = new SerialConsole();
      console.attach(serial);
    }
    // QEMU made its sockets with the umask's mode; the 0700 directory already guards them, this is belt and braces.
    const { qmpSocket, serialSocket, guestAgentSocket, vncSocket } = plan.argv;
    const sockets = [qmpSocket, serialSocket, guestAgentSocket, vncSocket];
    await Promise.all(sockets.map((path) => path && chmod(path, 0o600).catch(() => {})));
    if (plan.runtimeDir) await rm(plan.runtimeDir, { recursive: true, force: true });
    await plan.onQmp?.(qmp);
    const forwards: Forward[] = [];
    for (const port of plan.forwards ?? []) forwards.push(await addForward(qmp, port));
    await plan.onForwards?.(forwards);
    const guest = new Guest({
      spec: plan.argv.spec,
      process: qemu,
      qmp,
      console,
      guestAgent: plan.argv.guestAgentSocket,
      vncSocket,
      accel: plan.argv.accel.accel,
      logger,
      cloud: plan.cloud?.(forwards),
      onExit: plan.onExit,
      commandStatus: plan.commandStatus,
    });
    await qmp.execute('cont');
    logger.info({ pid: qemu.pid, accel: plan.argv.accel.accel }, 'guest started');
    return guest;
  } catch (error) {
    qmp.destroy();
    qemu.kill('SIGKILL');
    const exit = await Promise.race([
      qemu.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), KILL_GRACE_MS)),
    ]);
    if (plan.runtimeDir) await rm(plan.runtimeDir, { recursive: true, force: true });
    if (isQlaunchError(error, ErrorCode.VM_PORT_FORWARD)) throw error;
    const said = ((await plan.qemuSaid?.()) ?? qemu.stderr()).trim();
    logger.error({ err: error, qemu: said }, 'start failed');
    const why =
      exit && exit.exitCode !== null && exit.exitCode !== 0 && exit.signal === null
        ? ` (${describeExit(exit)})`
        : '';
    throw new QlaunchError(
      ErrorCode.VM_START_FAILED,
      `${plan.what ?? 'QEMU'} failed to start${why}: ${(error as Error).message}${said ? `\nQEMU said: ${said}` : ''}`,
      {
        hint: said.includes('hostfwd')
          ? 'a forwarded host port is probably in use: free it, or choose another --port'
          : 'check the QEMU message above; `qlaunch doctor` shows what this host can run',
        cause: error,
      },
    );
  }
}
