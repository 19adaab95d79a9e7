// `launch()`: from a spec to a running, QMP-connected guest, with nothing left behind when anything fails.

import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { bootFirmware, normalizeSpec, type VmSpec, type VmSpecInput } from '../machine/spec.js';
import { type AccelChoice, buildQemuArgv, type QemuCommand, type ResolvedFirmware } from '../qemu/argv.js';
import { MAX_UNIX_PATH_BYTES } from '../qmp/socket.js';
import type { CloudLaunchInput, CloudLaunchOptions, CloudVm } from './cloud-guest.js';
import type { Vm } from './guest.js';
import { resolveHost } from './host-choice.js';
import { describeExit, type QemuProcess, spawnQemu } from './process.js';

export interface LaunchOptions {
  logger?: Logger | undefined;
  /** How long QEMU gets to bring up QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing: use this binary and accelerator. */
  binary?: string | undefined;
  accel?: AccelChoice | undefined;
  /** Where the accelerator verdict is cached (default: the XDG cache dir). */
  cacheDir?: string | undefined;
  /** Firmware descriptor dirs, highest priority first (default: per-user, /etc/qemu, /usr/share/qemu). */
  firmwareDirs?: readonly string[] | undefined;
  /** Lines for people about choices made on their behalf (e.g. which firmware). */
  onProgress?: ((line: string) => void) | undefined;
}

export const RUNTIME_FILES = { qmp: 'qmp.sock', serial: 'serial.sock', nvram: 'efivars.fd' } as const;

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
export async function launch(
  input: CloudLaunchInput & ({ image: string } | { machine: string }),
  options?: CloudLaunchOptions,
): Promise<CloudVm>;
export async function launch(input: VmSpecInput, options?: LaunchOptions): Promise<Vm>;
/** A cloud image (`{ image }` or `{ machine }`) boots to SSH-ready; anything else boots a kernel/disk spec. */
export async function launch(
  input: VmSpecInput | CloudLaunchInput,
  options: LaunchOptions & CloudLaunchOptions = {},
): Promise<Vm | CloudVm> {
  if ('image' in input || 'machine' in input) {
    const { launchImage } = await import('./cloud-guest.js');
    return launchImage(input as CloudLaunchInput, options);
  }
  return startVm(normalizeSpec(input as VmSpecInput), options);
}

/**
 * The spec's firmware, with the NVRAM copy in the runtime dir: it is unlinked with the sockets once QEMU is attached,
 * and QEMU keeps writing the open file until it exits, so nothing is left behind.
 */
async function firmwareFor(
  spec: VmSpec,
  binary: string,
  nvramPath: string,
  options: LaunchOptions,
): Promise<ResolvedFirmware | undefined> {
  if (bootFirmware(spec) === undefined) return undefined;
  // Loaded only when there is firmware to find: a direct kernel boot never reads descriptors.
  const { resolveFirmware } = await import('./firmware.js');
  const firmware = await resolveFirmware(spec, { binary, nvramPath, firmwareDirs: options.firmwareDirs });
  if (firmware?.description) {
    options.logger?.info({ firmware }, 'firmware chosen');
    options.onProgress?.(`firmware: ${firmware.description}`);
  }
  return firmware;
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
  let command: QemuCommand;
  try {
    const firmware = await firmwareFor(spec, host.binary, join(runtimeDir, RUNTIME_FILES.nvram), options);
    command = buildQemuArgv({
      spec,
      binary: host.binary,
      accel: host.accel,
      qmpSocket,
      serialSocket,
      firmware,
    });
  } catch (error) {
    await rm(runtimeDir, { recursive: true, force: true });
    throw error;
  }
  logger.debug({ argv: [command.file, ...command.args] }, 'starting qemu');
  let qemu: QemuProcess | undefined;
  try {
    qemu = await spawnQemu(command, { dieWithParent: true });
    const { attachVm } = await import('./attach.js');
    const deadline = Date.now() + (options.startTimeout ?? 30_000);
    const vm = await attachVm({
      spec,
      qemu,
      qmpSocket,
      serialSocket,
      runtimeDir,
      deadline,
      accel: host.accel.accel,
      logger,
    });
    logger.info({ pid: qemu.pid, accel: host.accel.accel }, 'guest started');
    return vm;
  } catch (error) {
    qemu?.kill('SIGKILL');
    const exit = await qemu?.exited;
    await rm(runtimeDir, { recursive: true, force: true });
    if (!qemu || !exit) throw error;
    const why = exit.exitCode !== null && exit.signal === null ? ` (${describeExit(exit)})` : '';
    throw startFailure(qemu, `QEMU failed to start${why}: ${(error as Error).message}`, error);
  }
}
