// `launch()`: from a spec to a running, QMP-connected guest, with nothing left behind when anything fails.

import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { normalizeSpec, type VmSpec, type VmSpecInput } from '../machine/spec.js';
import { type AccelChoice, buildQemuArgv } from '../qemu/argv.js';
import { MAX_UNIX_PATH_BYTES, QmpClient } from '../qmp/index.js';
import { resolveHost } from './host-choice.js';
import { SerialConsole } from './serial.js';
import { describeExit, type QemuProcess, spawnQemu } from './spawn.js';
import { connectWithRetry } from './unix-socket.js';
import { Vm } from './vm.js';

export interface LaunchOptions {
  logger?: Logger | undefined;
  /** How long QEMU gets to bring up QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing: use this binary and accelerator. */
  binary?: string | undefined;
  accel?: AccelChoice | undefined;
  /** Where the accelerator verdict is cached (default: the XDG cache dir). */
  cacheDir?: string | undefined;
}

export const RUNTIME_FILES = { qmp: 'qmp.sock', serial: 'serial.sock' } as const;

async function checkFiles(spec: VmSpec): Promise<void> {
  const files: [string, string | undefined, number][] = [
    ['kernel', spec.kernel, constants.R_OK],
    ['initrd', spec.initrd, constants.R_OK],
    ...spec.disks.map((d): [string, string, number] => [
      'disk',
      d.path,
      d.readOnly ? constants.R_OK : constants.R_OK | constants.W_OK,
    ]),
  ];
  for (const [what, path, mode] of files) {
    if (path === undefined) continue;
    try {
      await access(path, mode);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new QlaunchError(
        ErrorCode.SPEC_FILE_MISSING,
        `${what} ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})`}`,
        { hint: code === 'ENOENT' ? `check the path of the ${what}` : `check the permissions of ${path}` },
      );
    }
  }
}

function startFailure(qemu: QemuProcess, message: string, cause?: unknown): QlaunchError {
  const stderr = qemu.stderr();
  return new QlaunchError(ErrorCode.VM_START_FAILED, `${message}${stderr ? `\nQEMU said: ${stderr}` : ''}`, {
    hint: 'check the QEMU message above; `qlaunch doctor` shows what this host can run',
    cause,
  });
}

/** Boot a throwaway guest: QEMU is started paused, QMP and the console connected, then the guest resumed. */
export async function launch(input: VmSpecInput, options: LaunchOptions = {}): Promise<Vm> {
  return startVm(normalizeSpec(input), options);
}

/** `launch()` for an already checked spec. */
export async function startVm(spec: VmSpec, options: LaunchOptions = {}): Promise<Vm> {
  const logger = options.logger ?? silentLogger;
  await checkFiles(spec);
  const host = await resolveHost(spec, options);
  const runtimeDir = await mkdtemp(join(tmpdir(), 'qlaunch-'));
  const qmpSocket = join(runtimeDir, RUNTIME_FILES.qmp);
  const serialSocket = join(runtimeDir, RUNTIME_FILES.serial);
  if (Buffer.byteLength(serialSocket) > MAX_UNIX_PATH_BYTES) {
    await rm(runtimeDir, { recursive: true, force: true });
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `socket path ${serialSocket} is longer than the OS allows`,
      {
        hint: 'set TMPDIR to a shorter directory',
      },
    );
  }
  const command = buildQemuArgv({ spec, binary: host.binary, accel: host.accel, qmpSocket, serialSocket });
  logger.debug({ argv: [command.file, ...command.args] }, 'starting qemu');
  let qemu: QemuProcess | undefined;
  const qmp = new QmpClient({ logger: logger.child({ component: 'qmp' }) });
  try {
    qemu = await spawnQemu(command, { dieWithParent: true });
    const running = qemu;
    const deadline = Date.now() + (options.startTimeout ?? 30_000);
    const socket = await connectWithRetry(qmpSocket, { deadline, alive: () => running.running });
    if (!socket) {
      if (!running.running) await running.exited;
      throw startFailure(
        running,
        running.running
          ? `QEMU did not open its QMP socket within ${options.startTimeout ?? 30_000} ms`
          : `QEMU failed to start (${describeExit(await running.exited)})`,
      );
    }
    await qmp.connect(socket, { timeout: Math.max(1000, deadline - Date.now()) });
    const serial = new SerialConsole();
    const serialConn = await connectWithRetry(serialSocket, { deadline, alive: () => running.running });
    if (!serialConn) throw startFailure(running, 'QEMU did not open its serial console socket');
    serial.attach(serialConn);
    // Both sockets are connected: their files are no longer needed, so nothing is left if we are killed.
    await rm(runtimeDir, { recursive: true, force: true });
    const vm = new Vm({ spec, process: running, qmp, serial, logger });
    await qmp.execute('cont');
    logger.info({ pid: running.pid, accel: host.accel.accel }, 'guest started');
    return vm;
  } catch (error) {
    qemu?.kill('SIGKILL');
    await qemu?.exited;
    qmp.destroy();
    await rm(runtimeDir, { recursive: true, force: true });
    if (error instanceof QlaunchError && error.code === ErrorCode.VM_START_FAILED) throw error;
    throw qemu ? startFailure(qemu, `QEMU failed to start: ${(error as Error).message}`, error) : error;
  }
}
