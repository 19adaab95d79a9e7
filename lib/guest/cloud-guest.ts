// `launch({ image })`: a throwaway cloud guest — overlay on a read-only base, a seed with a fresh key, ready over SSH.

import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildCloudConfig, buildMetaData, checkUserData } from '../cidata/cloud-config.js';
import { writeSeedImage } from '../cidata/seed.js';
import { buildVendorData } from '../cidata/vendor-data.js';
import { baseDisk, chooseMachine } from '../cloud/machine-choice.js';
import { createKeyPair } from '../cloud/ssh-key.js';
import { createOverlay } from '../image/qemu-img.js';
import { openImageStore } from '../image/store.js';
import { type Logger, silentLogger } from '../logger.js';
import type { ResolvedMachine } from '../machine/resolve.js';
import { type Firmware, normalizeSpec } from '../machine/spec.js';
import { type CloudInitResult, consoleGuest, waitReady } from './access/ready.js';
import { type SshClient, sshClient } from './access/ssh.js';
import type { StopOptions, Vm, VmExit } from './guest.js';
import { startVm } from './launch.js';
import { createRunDir } from './run-dir.js';

export interface CloudLaunchInput {
  /** A template (machines/*.yaml), a stored image name, or a path to a disk image. */
  image?: string | undefined;
  /** A machine file instead of `image`. */
  machine?: string | undefined;
  arch?: string | undefined;
  cpus?: number | undefined;
  memory?: string | number | undefined;
  diskSize?: string | number | undefined;
  /** HOST:GUEST forwards, bound to 127.0.0.1. */
  ports?: readonly string[] | undefined;
  /** A user-data file, passed to cloud-init untouched (after a check). */
  userData?: string | undefined;
  accel?: string | undefined;
  hostname?: string | undefined;
  /** bios, uefi or a firmware file, instead of the machine's (default: what the arch boots disks with). */
  firmware?: string | Firmware | undefined;
}

export interface CloudLaunchOptions {
  logger?: Logger | undefined;
  /** Progress lines for people (downloads, builds, boot steps). */
  onProgress?: ((line: string) => void) | undefined;
  /** Wait until SSH works and cloud-init is done (default true). */
  waitReady?: boolean | undefined;
  /** Milliseconds for readiness; default 5 min under TCG, 2 under KVM. */
  readyTimeout?: number | undefined;
  /** Keep the overlay, seed and key after the guest stops (default: delete them). */
  keep?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** A running cloud guest: the `Vm` plus SSH, readiness and the files behind it. */
export class CloudVm implements AsyncDisposable {
  readonly vm: Vm;
  readonly ssh: SshClient;
  readonly machine: ResolvedMachine;
  /** The run's private directory (overlay, seed, keys). */
  readonly dir: string;
  readonly #keep: boolean;
  readonly #accel: 'kvm' | 'tcg';
  readonly #readyTimeout: number | undefined;

  constructor(parts: {
    vm: Vm;
    ssh: SshClient;
    machine: ResolvedMachine;
    dir: string;
    keep: boolean;
    accel: 'kvm' | 'tcg';
    readyTimeout: number | undefined;
  }) {
    this.vm = parts.vm;
    this.ssh = parts.ssh;
    this.machine = parts.machine;
    this.dir = parts.dir;
    this.#keep = parts.keep;
    this.#accel = parts.accel;
    this.#readyTimeout = parts.readyTimeout;
  }

  /** SSH accepts the key and cloud-init has finished; fails fast on a kernel panic or QEMU exit. */
  waitReady(
    options: { timeout?: number | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<CloudInitResult> {
    return waitReady(consoleGuest(this.vm.serial), this.ssh.target, {
      accel: this.#accel,
      timeout: options.timeout ?? this.#readyTimeout,
      signal: options.signal,
    });
  }

  /** Stop the guest, then delete its files unless the run keeps them. */
  async stop(options: StopOptions = {}): Promise<VmExit> {
    const exit = await this.vm.stop(options);
    if (!this.#keep) await rm(this.dir, { recursive: true, force: true });
    return exit;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ timeout: 30_000 });
  }
}

/** A valid host name (RFC 1123 label) from a machine name. */
export const hostnameFor = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '') || 'qlaunch';

export async function userDataFor(machine: ResolvedMachine): Promise<string> {
  const source = machine.userData;
  if (source?.kind === 'file') {
    const text = await readFile(source.path, 'utf8');
    checkUserData(text, source.path);
    return text;
  }
  if (source?.kind === 'inline') return `#cloud-config\n${stringify(source.cloudConfig, { lineWidth: 0 })}`;
  return buildCloudConfig({});
}

/** Boot a throwaway guest from a cloud image; the base image is only ever read (the guest writes to an overlay). */
export async function launchImage(
  input: CloudLaunchInput,
  options: CloudLaunchOptions = {},
): Promise<CloudVm> {
  const logger = options.logger ?? silentLogger;
  const say = options.onProgress ?? (() => {});
  const store = openImageStore();
  const machine = await chooseMachine(input, store);
  const userData = await userDataFor(machine);
  const base = await baseDisk(machine, store, { onProgress: say, signal: options.signal });
  const dir = await createRunDir();
  try {
    const overlay = join(dir, 'disk.qcow2');
    await createOverlay(base.path, base.format, overlay, { sizeMiB: machine.diskSizeMiB });
    const key = await createKeyPair(dir, { comment: `qlaunch-${machine.name}` });
    const seed = join(dir, 'seed.iso');
    await writeSeedImage(
      seed,
      {
        files: {
          'meta-data': buildMetaData({
            hostname: input.hostname ?? hostnameFor(machine.name),
            publicKeys: [key.publicKeyText.trim()],
          }),
          'user-data': userData,
          'vendor-data': buildVendorData(),
        },
      },
      { durable: false },
    ); // read at once by this run's QEMU, deleted after it
    const spec = normalizeSpec({
      name: machine.name,
      arch: machine.arch,
      cpus: machine.cpus,
      memory: machine.memoryMiB,
      accel: input.accel,
      kernel: machine.kernel ?? base.kernel,
      initrd: machine.kernel ? machine.initrd : base.initrd,
      append: machine.append ?? base.append,
      firmware: input.firmware ?? machine.firmware,
      disks: [
        { path: overlay, format: 'qcow2' },
        { path: seed, format: 'raw', readOnly: true, serial: 'cidata' },
      ],
      forwards: machine.ports,
    });
    say(`booting ${machine.name} (${machine.arch}, ${machine.cpus} vCPU, ${machine.memoryMiB} MiB)`);
    const vm = await startVm(spec, { logger, onProgress: say });
    const accel = vm.accel;
    const forward = await vm.forwardPort(22).catch(async (error: unknown) => {
      await vm.kill();
      throw error;
    });
    const ssh = sshClient({
      host: forward.hostAddress,
      port: forward.hostPort,
      user: machine.sshUser ?? base.defaultUser ?? 'root',
      privateKey: key.privateKey,
      knownHostsFile: join(dir, 'known_hosts'),
    });
    const cloud = new CloudVm({
      vm,
      ssh,
      machine,
      dir,
      keep: options.keep ?? false,
      accel,
      readyTimeout: options.readyTimeout,
    });
    if (options.waitReady ?? true) {
      try {
        await cloud.waitReady({ signal: options.signal });
      } catch (error) {
        await cloud.vm.kill();
        throw error;
      }
    }
    return cloud;
  } catch (error) {
    if (!options.keep) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
