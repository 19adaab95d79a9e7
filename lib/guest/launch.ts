// `launch()`: from a kernel spec or a cloud image to a running, QMP-connected `Guest`, with nothing left behind
// when anything fails. One input type, one result type, every option honoured on both paths (or refused).

import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHostname } from '../cidata/hostname.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { checkGuestMemory } from '../host/memory.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  bootFirmware,
  type Firmware,
  normalizeSpec,
  type PortForward,
  type VmSpec,
  type VmSpecInput,
} from '../machine/spec.js';
import type { AccelChoice, ResolvedFirmware } from '../qemu/argv.js';
import type { ConfinementChoice } from '../qemu/confinement.js';
import { MAX_UNIX_PATH_BYTES } from '../qmp/socket.js';
import { type BootPlan, bootGuest } from './boot.js';
import { resolveConfinement } from './confinement.js';
import type { CloudGuest, CloudParts, Guest } from './guest.js';
import { resolveHost } from './host-choice.js';
import { checkLaunchOptions } from './launch-options.js';

/** What to boot: a kernel (with disks) as a spec, or a cloud image (`image`) or machine file (`machine`). */
export interface LaunchInput extends VmSpecInput {
  /** A template (machines/*.yaml), a stored image name, or a path to a disk image. */
  image?: string | undefined;
  /** A machine file instead of `image`. */
  machine?: string | undefined;
  /** Grow a cloud image's root disk to this size. */
  diskSize?: string | number | undefined;
  /** A cloud guest's HOST:GUEST forwards, bound to 127.0.0.1 (a kernel guest's are `forwards`). */
  ports?: readonly (string | PortForward)[] | undefined;
  /** A user-data file ("-": standard input), passed to cloud-init byte for byte after a check. */
  userData?: string | undefined;
  hostname?: string | undefined;
  /** bios, uefi or a firmware file, instead of the machine's (default: what the arch boots disks with). */
  firmware?: string | Firmware | undefined;
  /** false: QEMU runs without its seccomp filter (default: with it, where the QEMU build has seccomp). */
  sandbox?: boolean | undefined;
  /** true: under root, QEMU stays root (default: it drops to an unprivileged user once its files are open). */
  runAsRoot?: boolean | undefined;
}

export interface LaunchOptions {
  logger?: Logger | undefined;
  /** Lines for people about choices made on their behalf (downloads, builds, firmware, boot steps). */
  onProgress?: ((line: string) => void) | undefined;
  /** How long QEMU gets to bring up QMP, in ms (default 30 s). */
  startTimeout?: number | undefined;
  /** Skip probing: use this binary (and this accelerator). */
  binary?: string | undefined;
  accel?: AccelChoice | undefined;
  /** Where the accelerator verdict is cached (default: the XDG cache dir). */
  cacheDir?: string | undefined;
  /** Firmware descriptor dirs, highest priority first (default: per-user, /etc/qemu, /usr/share/qemu). */
  firmwareDirs?: readonly string[] | undefined;
  /** Cloud guests: wait until SSH works and cloud-init is done (default true). */
  waitReady?: boolean | undefined;
  /** Cloud guests: milliseconds for readiness; default 5 min under TCG, 2 under KVM. */
  readyTimeout?: number | undefined;
  /**
   * Cloud guests booting from their disk: ms they may write nothing at all on the serial console before the disk is
   * taken to have nothing to boot (VM_NOTHING_TO_BOOT); default 60 s, false for no bound.
   */
  firstOutputTimeout?: number | false | undefined;
  /** Cloud guests: keep the overlay, seed and key after the guest stops (default: delete them). */
  keep?: boolean | undefined;
  /** Aborting gives up the launch (and stops a guest that was already started). */
  signal?: AbortSignal | undefined;
}

// What only a kernel spec or only a cloud image means; giving one to the other is refused, not ignored.
const KERNEL_ONLY = [
  'kernel',
  'initrd',
  'append',
  'bios',
  'disks',
  'network',
  'networks',
  'forwards',
  'noReboot',
] as const;
const CLOUD_ONLY = ['diskSize', 'ports', 'userData', 'hostname'] as const;
const CLOUD_OPTIONS = ['waitReady', 'readyTimeout', 'firstOutputTimeout', 'keep'] as const;

const usage = (message: string, hint: string) => new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

/** Boot a throwaway guest; a cloud image boots to SSH-ready, a kernel spec to its first instruction. */
export async function launch(
  input: LaunchInput & ({ image: string } | { machine: string }),
  options?: LaunchOptions,
): Promise<CloudGuest>;
export async function launch(input: LaunchInput, options?: LaunchOptions): Promise<Guest>;
export async function launch(input: LaunchInput, options: LaunchOptions = {}): Promise<Guest> {
  if (typeof input !== 'object' || input === null) {
    throw usage(
      `launch() takes an object, not ${input === null ? 'null' : typeof input}`,
      'e.g. launch({ image: "debian-12-local" }) or launch({ kernel: "/boot/vmlinuz" })',
    );
  }
  if (options.signal?.aborted) throw aborted();
  await checkLaunchOptions(options);
  if (input.hostname !== undefined) checkHostname(input.hostname);
  const cloud = input.image !== undefined || input.machine !== undefined;
  const stray = cloud
    ? KERNEL_ONLY.filter((key) => input[key] !== undefined)
    : [
        ...CLOUD_ONLY.filter((key) => input[key] !== undefined),
        ...CLOUD_OPTIONS.filter((key) => options[key] !== undefined),
      ];
  if (stray.length > 0) {
    throw usage(
      `${stray.join(', ')} ${stray.length > 1 ? 'mean' : 'means'} nothing for a ${cloud ? 'cloud image' : 'kernel'} guest`,
      cloud
        ? 'a cloud guest boots its image: drop them, or boot a kernel spec without `image`/`machine`'
        : 'they are for cloud images: pass `image` (or `machine`) too, or drop them',
    );
  }
  return cloud ? launchImage(input, options) : launchKernel(normalizeSpec(input), input, options);
}

const aborted = () =>
  new QlaunchError(ErrorCode.VM_ABORTED, 'the launch was aborted', { hint: 'nothing was left running' });

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

/**
 * The spec's firmware, with the NVRAM copy at `nvramPath`: a throwaway run's is unlinked with its sockets once QEMU
 * is attached (QEMU keeps writing the open file until it exits), an instance keeps its own across boots.
 */
export async function firmwareFor(
  spec: VmSpec,
  binary: string,
  nvramPath: string,
  options: Pick<LaunchOptions, 'firmwareDirs' | 'logger' | 'onProgress'> & { keepExistingNvram?: boolean },
): Promise<ResolvedFirmware | undefined> {
  if (bootFirmware(spec) === undefined) return undefined;
  // Loaded only when there is firmware to find: a direct kernel boot never reads descriptors.
  const { resolveFirmware } = await import('./firmware.js');
  const firmware = await resolveFirmware(spec, {
    binary,
    nvramPath,
    firmwareDirs: options.firmwareDirs,
    keepExistingNvram: options.keepExistingNvram,
  });
  if (firmware?.description) {
    options.logger?.info({ firmware }, 'firmware chosen');
    options.onProgress?.(`firmware: ${firmware.description}`);
  }
  return firmware;
}

interface ThrowawayExtras {
  /** The cloud run dir's agent socket, and what the guest is besides QEMU. */
  guestAgentSocket?: string | undefined;
  forwards?: readonly number[] | undefined;
  cloud?: BootPlan['cloud'];
  /** The guest's confinement opt-outs. */
  confine?: ConfinementChoice | undefined;
}

/** Boot `spec` as a throwaway guest: sockets in a fresh private dir that is gone once QEMU is attached. */
async function startThrowaway(
  spec: VmSpec,
  options: LaunchOptions,
  extras: ThrowawayExtras = {},
): Promise<Guest> {
  const logger = options.logger ?? silentLogger;
  await checkFiles(spec);
  const host = await resolveHost(spec, options);
  const runtimeDir = await mkdtemp(join(tmpdir(), 'qlaunch-'));
  const qmpSocket = join(runtimeDir, GUEST_FILES.qmp);
  const serialSocket = join(runtimeDir, GUEST_FILES.serial);
  try {
    if (Buffer.byteLength(serialSocket) > MAX_UNIX_PATH_BYTES) {
      throw usage(
        `socket path ${serialSocket} is longer than the OS allows`,
        'set TMPDIR to a shorter directory',
      );
    }
    const firmware = await firmwareFor(spec, host.binary, join(runtimeDir, GUEST_FILES.nvram), options);
    const confinement = await resolveConfinement(host.binary, extras.confine ?? {}, {
      cacheDir: options.cacheDir,
      logger,
      onProgress: options.onProgress,
    });
    return await bootGuest({
      argv: {
        spec,
        binary: host.binary,
        accel: host.accel,
        qmpSocket,
        serialSocket,
        firmware,
        guestAgentSocket: extras.guestAgentSocket,
        confinement,
      },
      mode: { kind: 'attached' },
      runtimeDir,
      forwards: extras.forwards,
      startTimeout: options.startTimeout,
      cloud: extras.cloud,
      logger,
    });
  } catch (error) {
    await rm(runtimeDir, { recursive: true, force: true });
    throw error;
  }
}

async function launchKernel(spec: VmSpec, input: LaunchInput, options: LaunchOptions): Promise<Guest> {
  checkGuestMemory(spec.memoryMiB);
  const guest = await startThrowaway(spec, options, {
    confine: { sandbox: input.sandbox, runAsRoot: input.runAsRoot },
  });
  if (options.signal?.aborted) {
    await guest.kill();
    throw aborted();
  }
  return guest;
}

/** Boot a throwaway guest from a cloud image; the base image is only ever read (the guest writes to an overlay). */
async function launchImage(input: LaunchInput, options: LaunchOptions): Promise<Guest> {
  const say = options.onProgress ?? (() => {});
  // Loaded only for images: a kernel boot pays for none of the recipe's modules (YAML, seed writer, qemu-img).
  const [{ openImageStore }, { baseDisk, chooseMachine }, recipe, { sshClient }, { createRunDir }] =
    await Promise.all([
      import('../image/store.js'),
      import('../cloud/machine-choice.js'),
      import('../cloud/recipe.js'),
      import('./access/ssh.js'),
      import('./run-dir.js'),
    ]);
  const { cloudBoot, cloudDisks, hostnameFor, sshUserFor, userDataFor, writeCloudFiles } = recipe;
  const store = openImageStore();
  const cpus = input.cpus === undefined ? undefined : Number(input.cpus);
  const machine = await chooseMachine({ ...input, cpus }, store);
  checkGuestMemory(machine.memoryMiB);
  const userData = await userDataFor(machine);
  const base = await baseDisk(machine, store, { onProgress: say, signal: options.signal });
  const dir = await createRunDir();
  const keep = options.keep ?? false;
  try {
    // Read at once by this run's QEMU and deleted after it: no fsync.
    const key = await writeCloudFiles({
      machine,
      base,
      userData,
      dir,
      hostname: input.hostname ?? hostnameFor(machine.name),
      keyComment: `qlaunch-${machine.name}`,
      durable: false,
    });
    const spec = normalizeSpec({
      name: machine.name,
      arch: machine.arch,
      cpus: machine.cpus,
      memory: machine.memoryMiB,
      accel: input.accel,
      ...cloudBoot(machine, base),
      firmware: input.firmware ?? machine.firmware,
      machineType: input.machineType ?? machine.machineType,
      disks: cloudDisks(dir),
      forwards: machine.ports,
    });
    say(`booting ${machine.name} (${machine.arch}, ${machine.cpus} vCPU, ${machine.memoryMiB} MiB)`);
    const guest = await startThrowaway(spec, options, {
      guestAgentSocket: join(dir, GUEST_FILES.guestAgent),
      forwards: [22],
      confine: { sandbox: machine.sandbox, runAsRoot: machine.runAsRoot },
      cloud: ([ssh]): CloudParts => ({
        ssh: sshClient({
          host: ssh?.hostAddress ?? '127.0.0.1',
          port: ssh?.hostPort ?? 0,
          user: sshUserFor(machine, base),
          privateKey: key.privateKey,
          knownHostsFile: join(dir, GUEST_FILES.knownHosts),
        }),
        machine,
        dir,
        keep,
        readyTimeout: options.readyTimeout,
        firstOutputTimeout: options.firstOutputTimeout,
      }),
    });
    if (options.waitReady ?? true) {
      try {
        await guest.waitReady({ signal: options.signal });
      } catch (error) {
        await guest.kill();
        // The launch's own signal ended the wait: the launch is what was aborted, and nothing is left of it.
        throw isQlaunchError(error, ErrorCode.VM_ABORTED) && options.signal?.aborted ? aborted() : error;
      }
    }
    return guest;
  } catch (error) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
