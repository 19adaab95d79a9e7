// `launch()`: from a kernel spec, a rootfs or a cloud image to a running, QMP-connected `Guest`, with nothing left
// behind when anything fails. One input type, one result type, every option honoured on each path (or refused).

import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { checkHostname } from '../cidata/hostname.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkGuestMemory } from '../host/memory.js';
import { IMAGE_NAME } from '../image/image-name.js';
import { imageStoreDir } from '../image/store-location.js';
import { normalizeSpec, parsePortForward, type VmSpec } from '../machine/spec.js';
import type { CloudGuest, Guest } from './guest.js';
import type { LaunchInput } from './launch-input.js';
import { aborted, checkLaunchOptions, type LaunchOptions } from './launch-options.js';
import { startThrowaway } from './throwaway.js';
import { WARM_FILES } from './warm/files.js';

export type { LaunchInput } from './launch-input.js';
export type { LaunchOptions } from './launch-options.js';
export { firmwareFor } from './throwaway.js';

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
  'rootfs',
  'command',
  'modulesDir',
] as const;
const CLOUD_ONLY = ['diskSize', 'ports', 'userData', 'hostname'] as const;
const CLOUD_OPTIONS = ['waitReady', 'readyTimeout', 'firstOutputTimeout', 'keep', 'sshMaster'] as const;

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
  if (cloud) {
    // Loaded here: a clone needs nothing of the cold path's seed writer and image store (~0.1 s of imports).
    const { launchImageWith } = await import('./launch-image.js');
    return launchImageWith(input, options, {});
  }
  if (input.rootfs !== undefined) {
    const { launchRootfs } = await import('./rootfs.js');
    return launchRootfs({ ...input, rootfs: input.rootfs, command: input.command ?? [] }, options);
  }
  if (input.command !== undefined || input.modulesDir !== undefined) {
    throw usage(
      `${input.command !== undefined ? 'command' : 'modulesDir'} is for a rootfs guest`,
      'give rootfs too (a host directory to boot on, e.g. "/"), or drop it',
    );
  }
  return launchKernel(normalizeSpec(input), input, options);
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
    ssh: options.sshMaster,
    sandbox: input.sandbox,
    runAsRoot: input.runAsRoot,
  });
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
