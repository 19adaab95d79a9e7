// `start`: boot an instance's QEMU detached, connected over QMP just long enough to resume it and forward SSH,
// then wait for whatever readiness was asked; a start that fails leaves no QEMU and no runtime files behind.

import { appendFile, chmod } from 'node:fs/promises';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { bootLine, fileSize } from '../guest/console/console-log.js';
import { spawnDetached } from '../guest/detached.js';
import { resolveHost } from '../guest/host-choice.js';
import { addForward } from '../guest/ports/ports.js';
import { connectWithRetry } from '../guest/unix-socket.js';
import type { Logger } from '../logger.js';
import { bootFirmware, normalizeSpec, type VmSpec } from '../machine/spec.js';
import { buildQemuArgv } from '../qemu/argv.js';
import { QmpClient } from '../qmp/index.js';
import type { InstanceConfig } from './config.js';
import type { InstancePaths } from './layout.js';
import { processStartTicks, type RuntimeRecord, removeRuntimeFiles, writeRuntime } from './runtime.js';
import { tailFile } from './tail.js';

export interface BootOptions {
  logger: Logger;
  /** How long QEMU gets to open QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing (tests, benchmarks): this binary and accelerator. */
  binary?: string | undefined;
  accel?: 'kvm' | 'tcg' | undefined;
}

/** The VM spec an instance boots with (pure): its disks, NICs and kernel as `create` recorded them. */
export function instanceSpec(config: InstanceConfig, paths: InstancePaths): VmSpec {
  return normalizeSpec({
    name: config.name,
    arch: config.arch,
    cpus: config.cpus,
    memory: config.memoryMiB,
    accel: config.accel,
    kernel: config.kernel,
    initrd: config.initrd,
    append: config.append,
    firmware: config.firmware,
    disks: [
      ...(config.disk ? [{ path: paths.overlay, format: 'qcow2' as const }] : []),
      ...(config.seed
        ? [{ path: paths.seed, format: 'raw' as const, readOnly: true, serial: 'cidata' }]
        : []),
    ],
    network: { user: true, forwards: config.ports, mac: config.mac, private: config.networks },
  });
}

/** The files a start reads that `create` made or the user gave: missing ones are named before QEMU runs. */
const QMP_GRACE_MS = 3000;

/**
 * Spawn QEMU for the instance (caller holds the lock; the instance is stopped and its runtime files gone), resume
 * it, add the SSH forward. Returns the runtime record and the console-log offset this boot starts at.
 */
export async function bootInstance(
  config: InstanceConfig,
  paths: InstancePaths,
  options: BootOptions,
): Promise<{ runtime: RuntimeRecord; consoleOffset: number }> {
  const { logger } = options;
  const spec = instanceSpec(config, paths);
  const host = await resolveHost(spec, {
    binary: options.binary,
    accel: options.accel ? { accel: options.accel } : undefined,
  });
  // Firmware is found once per start; an instance keeps its own UEFI variable store across boots.
  const firmware = bootFirmware(spec)
    ? await (await import('../guest/firmware.js')).resolveFirmware(spec, {
        binary: host.binary,
        nvramPath: paths.nvram,
        keepExistingNvram: true,
      })
    : undefined;
  const command = buildQemuArgv({
    spec,
    binary: host.binary,
    accel: host.accel,
    firmware,
    qmpSocket: paths.qmp,
    serialSocket: paths.serial,
    serialLog: paths.console,
    guestAgentSocket: paths.guestAgent,
    pidFile: paths.pid,
  });
  await appendFile(paths.console, bootLine(new Date()), { mode: 0o600 });
  const consoleOffset = await fileSize(paths.console);
  const qemuLogOffset = await fileSize(paths.qemuLog);
  logger.info({ argv: [command.file, ...command.args] }, 'starting qemu');
  const qemu = spawnDetached(command, paths.qemuLog);
  const qmp = new QmpClient({ logger: logger.child({ component: 'qmp' }) });
  try {
    if (qemu.pid < 0) throw new Error(`could not run ${command.file}`);
    const runtime: RuntimeRecord = {
      pid: qemu.pid,
      startTicks: await processStartTicks(qemu.pid),
      startedAt: new Date().toISOString(),
      binary: host.binary,
      accel: host.accel.accel,
    };
    await writeRuntime(paths.runtime, runtime);
    const deadline = Date.now() + (options.startTimeout ?? 30_000);
    const socket = await connectWithRetry(paths.qmp, { deadline, alive: () => qemu.running });
    if (!socket) {
      throw new Error(qemu.running ? 'QEMU did not open its QMP socket in time' : 'QEMU exited at start');
    }
    await qmp.connect(socket, { timeout: Math.max(1000, deadline - Date.now()) });
    // QEMU made its sockets with the umask's mode; the 0700 directory already guards them, this is belt and braces.
    await Promise.all(
      [paths.qmp, paths.serial, paths.guestAgent].map((path) => chmod(path, 0o600).catch(() => {})),
    );
    if (config.seed) {
      const ssh = await addForward(qmp, 22);
      runtime.sshPort = ssh.hostPort;
      await writeRuntime(paths.runtime, runtime);
    }
    await qmp.execute('cont');
    await qmp.close();
    logger.info({ runtime }, 'instance started');
    return { runtime, consoleOffset };
  } catch (error) {
    qmp.destroy();
    qemu.kill('SIGKILL');
    await Promise.race([qemu.exited, new Promise((resolve) => setTimeout(resolve, QMP_GRACE_MS))]);
    await removeRuntimeFiles(paths);
    const said = (await tailFile(paths.qemuLog, qemuLogOffset)).trim();
    logger.error({ err: error, qemu: said }, 'start failed');
    if (isQlaunchError(error) && error.code === ErrorCode.VM_PORT_FORWARD) throw error;
    throw new QlaunchError(
      ErrorCode.VM_START_FAILED,
      `instance ${config.name} failed to start: ${(error as Error).message}${said ? `\nQEMU said: ${said}` : ''}`,
      {
        hint: said.includes('hostfwd')
          ? 'a forwarded host port is probably in use: free it, or recreate the instance with another --port'
          : 'check the QEMU message above; `qlaunch doctor` shows what this host can run',
        cause: error,
      },
    );
  }
}
