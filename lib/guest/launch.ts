// `launch()`: from a kernel spec or a cloud image to a running, QMP-connected `Guest`, with nothing left behind
// when anything fails. One input type, one result type, every option honoured on both paths (or refused).

import { randomBytes } from 'node:crypto';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHostname } from '../cidata/hostname.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { checkGuestMemory } from '../host/memory.js';
import { IMAGE_NAME } from '../image/image-name.js';
import { imageStoreDir } from '../image/store-location.js';
import { silentLogger } from '../logger.js';
import { normalizeMounts } from '../machine/mounts.js';
import { privateNetMac } from '../machine/private-net.js';
import {
  type Firmware,
  normalizeSpec,
  type PortForward,
  parsePortForward,
  type VmSpec,
  type VmSpecInput,
} from '../machine/spec.js';
import { parseBridgeOptions, parseNetworks } from '../network/options.js';
import type { CloudGuest, CloudParts, Guest } from './guest.js';
import { checkLaunchOptions, type LaunchOptions } from './launch-options.js';
import { type GuestLinks, joinAsGuest, randomMac } from './private-links.js';
import { chooseMounts } from './shares.js';
import { startThrowaway, type WarmBootParts } from './throwaway.js';
import { WARM_FILES } from './warm/files.js';

export type { LaunchOptions } from './launch-options.js';
export { firmwareFor } from './throwaway.js';

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

// What only a kernel spec or only a cloud image means; giving one to the other is refused, not ignored.
const KERNEL_ONLY = [
  'kernel',
  'initrd',
  'append',
  'bios',
  'disks',
  'network',
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
  const { image } = input;
  if (image !== undefined && input.machine === undefined) {
    const warm = await warmDirOf(image);
    if (warm) return launchWarm({ ...input, image: warm }, options);
  }
  return cloud ? launchImage(input, options) : launchKernel(normalizeSpec(input), input, options);
}

/**
 * The warm image `image` names: a directory warmImage() wrote (a path), or one in the store (a name). A stat, not
 * the restore modules: a cold launch loads nothing of warm images.
 */
export async function warmDirOf(image: string): Promise<string | undefined> {
  // As for disks: a path holds a slash, a name never does.
  const dir = image.includes('/') ? image : IMAGE_NAME.test(image) ? join(imageStoreDir(), image) : undefined;
  if (dir === undefined) return undefined;
  return access(join(dir, WARM_FILES.record)).then(
    () => dir,
    () => undefined,
  );
}

// A warm image runs as it was saved: only its forwards are a clone's own.
const WARM_FIXED = [
  'arch',
  'machineType',
  'cpus',
  'memory',
  'accel',
  'firmware',
  'diskSize',
  'userData',
  'hostname',
  'mounts',
  'networks',
  'display',
] as const;

/** `launch({ image: WARM_DIR })`: a clone of a warm image, ready once its agent answers. */
async function launchWarm(input: LaunchInput & { image: string }, options: LaunchOptions): Promise<Guest> {
  const fixed = WARM_FIXED.filter((key) => input[key] !== undefined);
  if (fixed.length > 0) {
    throw usage(
      `${fixed.join(', ')} cannot change for warm image ${input.image}: it runs as it was saved`,
      'drop them, or warm the image again with them',
    );
  }
  const ports = (input.ports ?? []).map((p) => (typeof p === 'string' ? parsePortForward(p) : p));
  const fixedPort = ports.find((p) => p.hostPort !== 0 || p.protocol !== 'tcp');
  if (fixedPort) {
    throw usage(
      `port ${fixedPort.hostPort}:${fixedPort.guestPort}/${fixedPort.protocol}: a warm clone forwards TCP from a free host port`,
      `give 0:${fixedPort.guestPort}, and read the host port from guest.listForwards()`,
    );
  }
  if (options.signal?.aborted) throw aborted();
  const { restoreWarm } = await import('./warm/restore.js');
  return restoreWarm(input.image, {
    logger: options.logger,
    startTimeout: options.startTimeout,
    binary: options.binary,
    cacheDir: options.cacheDir,
    readyTimeout: options.readyTimeout,
    keep: options.keep,
    onProgress: options.onProgress,
    ports: ports.map((p) => p.guestPort),
    sandbox: input.sandbox,
    runAsRoot: input.runAsRoot,
  });
}

const aborted = () =>
  new QlaunchError(ErrorCode.VM_ABORTED, 'the launch was aborted', { hint: 'nothing was left running' });

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
  return launchImageWith(input, options, {});
}

/** `launch({ image })` with a warm image's boot parts: how a guest to be warmed is booted. */
export async function launchImageWith(
  input: LaunchInput,
  options: LaunchOptions,
  warm: WarmBootParts,
): Promise<CloudGuest> {
  const say = options.onProgress ?? (() => {});
  const networks = parseNetworks(input.networks ?? []);
  const bridgeNames = parseBridgeOptions(input.networks ?? []);
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
  const mountSpecs = normalizeMounts([...(machine.mounts ?? []), ...(input.mounts ?? [])], process.cwd());
  const mounts = await chooseMounts(mountSpecs, options.vhostUserDirs);
  // On a network the host name is the guest's name there: one of its own unless given.
  const hostname =
    input.hostname ??
    (networks.length > 0 || bridgeNames.length > 0
      ? `${hostnameFor(machine.name).slice(0, 58)}-${randomBytes(2).toString('hex')}`
      : hostnameFor(machine.name));
  const dir = await createRunDir();
  const keep = options.keep ?? false;
  let links: GuestLinks | undefined;
  try {
    if (networks.length > 0) {
      const agent = join(dir, GUEST_FILES.guestAgent);
      links = await joinAsGuest(hostname, networks, agent, options.networksDir);
    }
    const bridges = bridgeNames.map((bridge) => ({
      bridge,
      mac: privateNetMac(hostname, `bridge:${bridge}`),
    }));
    const userMac = links?.mac ?? (bridges.length > 0 ? randomMac() : undefined);
    // Read at once by this run's QEMU and deleted after it: no fsync.
    const key = await writeCloudFiles({
      machine,
      base,
      userData,
      dir,
      hostname,
      keyComment: `qlaunch-${machine.name}`,
      durable: false,
      mounts,
      network:
        userMac === undefined
          ? undefined
          : { mac: userMac, privateLinks: links?.links ?? [], bridgeMacs: bridges.map((b) => b.mac) },
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
      mounts: mountSpecs,
      network: userMac === undefined ? undefined : { mac: userMac, private: links?.nics ?? [], bridges },
      display: machine.display,
    });
    say(`booting ${machine.name} (${machine.arch}, ${machine.cpus} vCPU, ${machine.memoryMiB} MiB)`);
    const guest = await startThrowaway(spec, options, {
      ...warm,
      guestAgentSocket: join(dir, GUEST_FILES.guestAgent),
      removeOnDeath: keep ? [] : [dir],
      forwards: [22],
      mounts,
      onExit: links?.leave,
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
      // Names go in through the agents: a guest not waited for gets none (its address is set all the same).
      await links?.publish(options.logger ?? silentLogger);
    }
    return guest as CloudGuest;
  } catch (error) {
    await links?.leave();
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
