// `launch({ image })`: a cloud image or machine file booted to a ready guest, its run dir, seed and key made for
// it and gone with it (unless kept), its private networks joined and left.

import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, isQlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { checkGuestMemory } from '../host/memory.js';
import { silentLogger } from '../logger.js';
import { normalizeMounts } from '../machine/mounts.js';
import { privateNetMac } from '../machine/private-net.js';
import { normalizeSpec } from '../machine/spec.js';
import { parseBridgeOptions, parseNetworks } from '../network/options.js';
import type { CloudGuest, CloudParts } from './guest.js';
import type { LaunchInput } from './launch-input.js';
import { aborted, type LaunchOptions } from './launch-options.js';
import { type GuestLinks, joinAsGuest, randomMac } from './private-links.js';
import { chooseMounts } from './shares.js';
import { startThrowaway, type WarmBootParts } from './throwaway.js';

/**
 * Boot a throwaway guest from a cloud image (the base image is only ever read: the guest writes to an overlay);
 * a warm image's boot parts make it the guest to be warmed.
 */
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
