// `create`: resolve a machine once (template, image or machine file), then lay down the instance directory —
// overlay, seed, key, config — all or nothing.

import { mkdir, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { newInstanceId } from '../cidata/cloud-config.js';
import { baseDisk, type CloudGuestInput, chooseMachine } from '../cloud/machine-choice.js';
import { cloudBoot, hostnameFor, sshUserFor, userDataFor, writeCloudFiles } from '../cloud/recipe.js';
import { createKeyPair } from '../cloud/ssh-key.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { warmDirOf } from '../guest/launch.js';
import { chooseMounts } from '../guest/shares.js';
import { locateQemu } from '../host/binaries.js';
import { machineCatalog } from '../host/machine-cache.js';
import { machineTypeOf } from '../host/machines.js';
import { checkGuestMemory } from '../host/memory.js';
import { openImageStore } from '../image/store.js';
import type { Logger } from '../logger.js';
import { normalizeMounts } from '../machine/mounts.js';
import { privateNetMac } from '../machine/private-net.js';
import { mergePorts } from '../machine/resolve.js';
import { parseAccel, parseMachineType } from '../machine/spec.js';
import { checkBridges } from '../network/bridge-check.js';
import { parseBridgeOptions, parseNetworks } from '../network/options.js';
import { joinNetwork, leaveAllNetworks, type NetworkLease } from '../network/store.js';
import { type InstanceConfig, type InstanceReadiness, writeInstanceConfig } from './config.js';
import { checkSocketPaths, type InstancePaths, instancePaths, networksDirFor } from './layout.js';
import { acquireLock, createLockKey } from './lock.js';
import { stableMac } from './mac.js';
import { choosePin, type MachinePin } from './machine-pin.js';
import { checkInstanceDirs } from './registry.js';
import { instanceSpec } from './start.js';
import { createWarmFiles } from './warm.js';

/** A cloud guest's inputs (image or machine file, overrides), plus the instance's name and private networks. */
export interface CreateInstanceInput extends CloudGuestInput {
  name: string;
  /** `private:NET` entries: private L2 networks besides user networking. */
  networks?: readonly string[] | undefined;
}

export interface CreateInstanceOptions {
  /** Where instances live (default `<qlaunch home>/instances`). */
  root?: string | undefined;
  logger?: Logger | undefined;
  onProgress?: ((line: string) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** The firmware as the config keeps it: a file's path made absolute, since later starts run from anywhere. */
function parseFirmware(value: CreateInstanceInput['firmware']): InstanceConfig['firmware'] {
  if (value === undefined || value === 'bios' || value === 'uefi') return value;
  return { path: resolve(typeof value === 'string' ? value : value.path) };
}

/**
 * The versioned machine type the instance will always start with: what the arch's alias (or the type a machine file
 * names) is on the QEMU installed now. Without a QEMU to ask, a named type is kept and the first start pins the rest.
 */
async function pinAtCreate(
  name: string,
  arch: Arch,
  asked: string | undefined,
): Promise<MachinePin | undefined> {
  const binary = await locateQemu(arch).catch(() => undefined);
  const catalog = binary === undefined ? undefined : await machineCatalog(binary);
  const pinned = asked === undefined ? undefined : { name: parseMachineType(arch, asked) ?? asked };
  if (!catalog) return pinned;
  if (asked !== undefined && machineTypeOf(asked, catalog.machines) === undefined) {
    throw new QlaunchError(
      ErrorCode.MACHINE_TYPE_UNAVAILABLE,
      `machine type ${asked} is not offered by QEMU ${catalog.qemuVersion} (${catalog.qemuPath})`,
      {
        hint: `name one \`${catalog.qemuPath} -machine help\` lists, or leave the machine type out to pin ${ARCH_TABLE[arch].machine}`,
      },
    );
  }
  return choosePin({ instance: name, arch, pinned }, catalog);
}

/** Make instance `input.name`; on any failure nothing of it is left. Returns its paths and config. */
export async function createInstance(
  input: CreateInstanceInput,
  options: CreateInstanceOptions = {},
): Promise<{ paths: InstancePaths; config: InstanceConfig }> {
  const paths = instancePaths(input.name, options.root);
  checkSocketPaths(paths);
  await checkInstanceDirs(input.name, paths);
  if (await stat(paths.dir).catch(() => undefined)) throw exists(input.name, paths.dir);
  if (input.image === undefined && input.machine === undefined) {
    throw new QlaunchError(ErrorCode.USAGE, `instance ${input.name} needs an image or a machine file`, {
      hint: `pass --image debian-12 (a template, stored image or disk file) or --machine FILE`,
    });
  }
  const warmDir = input.machine === undefined && input.image ? await warmDirOf(input.image) : undefined;
  if (warmDir !== undefined) return createWarmInstance(input, warmDir, paths, options);
  const networks = parseNetworks(input.networks ?? []);
  // Refused now, not at the first start, when the bridge is not one QEMU may join.
  const bridges = parseBridgeOptions(input.networks ?? []).map((bridge) => ({
    bridge,
    mac: privateNetMac(input.name, `bridge:${bridge}`),
  }));
  await checkBridges(bridges);
  const mountSpecs = normalizeMounts([...(input.mounts ?? [])], process.cwd());
  const accel = parseAccel(input.accel);
  const store = openImageStore();
  const machine = await chooseMachine(input, store);
  checkGuestMemory(machine.memoryMiB);
  // The machine file's first, then the command line's: one list, so a path given twice is caught across both.
  const mounts = await chooseMounts(
    normalizeMounts([...(machine.mounts ?? []), ...mountSpecs], process.cwd()),
  );
  const machineType = await pinAtCreate(input.name, machine.arch, input.machineType ?? machine.machineType);
  const userData = machine.image ? await userDataFor(machine) : undefined;
  const base = machine.image
    ? await baseDisk(machine, store, { onProgress: options.onProgress, signal: options.signal })
    : undefined;

  return layDown(input.name, paths, options, async () => {
    const keyComment = `qlaunch-${input.name}`;
    const mac = stableMac(`${input.name}/user`);
    // Addresses are taken before the seed is written, which configures them; a failed create gives them back.
    // A cloud image has a guest agent: the network's names reach the guest through it.
    const leases = await joinNetworks(input.name, networks, paths, base ? paths.guestAgent : undefined);
    if (base && userData !== undefined) {
      // An instance's seed must survive a host crash: it is read again on every boot.
      await writeCloudFiles({
        machine,
        base,
        userData,
        dir: paths.dir,
        hostname: hostnameFor(input.name),
        instanceId: newInstanceId(),
        keyComment,
        durable: true,
        mounts,
        network: {
          mac,
          privateLinks: leases.map(({ mac, address, prefix }) => ({ mac, address, prefix })),
          bridgeMacs: bridges.map((nic) => nic.mac),
        },
      });
    } else {
      await createKeyPair(paths.dir, { comment: keyComment, name: GUEST_FILES.key });
    }
    const readiness: InstanceReadiness = machine.readiness ?? (base ? 'cloud-init' : 'none');
    const config: InstanceConfig = {
      schema: 1,
      name: input.name,
      created: new Date().toISOString(),
      source: input.machine ?? input.image ?? machine.name,
      arch: machine.arch,
      cpus: machine.cpus,
      memoryMiB: machine.memoryMiB,
      accel,
      machineType,
      base: base && { path: base.path, format: base.format },
      disk: base !== undefined,
      seed: base !== undefined,
      ...cloudBoot(machine, base),
      firmware: parseFirmware(input.firmware) ?? machine.firmware,
      ports: machine.ports,
      networks: leases.map((lease) => ({
        name: lease.network,
        mac: lease.mac,
        address: `${lease.address}/${lease.prefix}`,
      })),
      ...(bridges.length > 0 && { bridges }),
      mac,
      sshUser: base ? sshUserFor(machine, base) : undefined,
      readiness,
      // Only the opt-outs are written: an instance without them gets whatever confinement qlaunch gives.
      ...(machine.sandbox === false && { sandbox: false }),
      ...(machine.runAsRoot === true && { runAsRoot: true }),
      ...(machine.display === 'vnc' && { display: machine.display }),
      ...(mounts.length > 0 && {
        mounts: mounts.map(({ host, guest, writable, type, transport }) => ({
          host,
          guest,
          writable,
          type,
          transport,
        })),
      }),
    };
    return config;
  });
}

/** Make instance `name` a member of each private network, in order: its address and MAC on each. */
async function joinNetworks(
  name: string,
  networks: readonly string[],
  paths: InstancePaths,
  agent: string | undefined,
): Promise<NetworkLease[]> {
  const dir = networksDirFor(dirname(paths.dir));
  const leases: NetworkLease[] = [];
  for (const net of networks) {
    leases.push(await joinNetwork(net, name, privateNetMac(name, net), { dir }, { agent }));
  }
  return leases;
}

/**
 * Makes instance directory `paths.dir` (0700) under its lock, fills it through `fill`, checks the spec every start
 * will build, and writes the config last; on any failure nothing of it is left.
 */
async function layDown(
  name: string,
  paths: InstancePaths,
  options: CreateInstanceOptions,
  fill: () => Promise<InstanceConfig>,
): Promise<{ paths: InstancePaths; config: InstanceConfig }> {
  await mkdir(dirname(paths.dir), { recursive: true, mode: 0o700 });
  try {
    await mkdir(paths.dir, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw exists(name, paths.dir);
    throw error;
  }
  try {
    await createLockKey(paths.lockKey);
    const lock = await acquireLock(name, paths.dir, paths.lockKey, 'create');
    try {
      const config = await fill();
      // The spec every start will build: checked now, so a machine this host cannot boot is refused at create.
      instanceSpec(config, paths);
      // Written last: a directory without it is an instance that was never finished.
      await writeInstanceConfig(paths.config, config);
      options.logger?.info({ config }, 'instance created');
      return { paths, config };
    } finally {
      await lock.release();
    }
  } catch (error) {
    await rm(paths.dir, { recursive: true, force: true });
    // The create's own error is the one to report, whatever freeing the addresses it took says.
    await leaveAllNetworks(name, { dir: networksDirFor(dirname(paths.dir)) }).catch(() => undefined);
    throw error;
  }
}

// A warm image runs as it was saved: only an instance's own forwards and confinement can be its own.
const WARM_FIXED = [
  'arch',
  'cpus',
  'memory',
  'diskSize',
  'userData',
  'firmware',
  'machineType',
  'accel',
  'mounts',
  'display',
] as const satisfies readonly (keyof CreateInstanceInput)[];

/** Refuses what a warm image cannot take: changed hardware, another cloud-init, private networks. */
export function checkWarmInput(input: CreateInstanceInput, image: string): void {
  const given = (value: unknown) => (Array.isArray(value) ? value.length > 0 : value !== undefined);
  const fixed: string[] = WARM_FIXED.filter((key) => given(input[key]));
  if ((input.networks ?? []).length > 0) fixed.push('networks');
  if (fixed.length === 0) return;
  throw new QlaunchError(
    ErrorCode.WARM_UNSUPPORTED,
    `instance ${input.name}: ${fixed.join(', ')} cannot change for warm image ${image}: it runs as it was saved`,
    { hint: 'drop them, warm the image again with them, or create the instance from its base image' },
  );
}

/** `create --image WARM`: checked against the warm image and this host before anything is made; all or nothing. */
async function createWarmInstance(
  input: CreateInstanceInput,
  warmDir: string,
  paths: InstancePaths,
  options: CreateInstanceOptions,
): Promise<{ paths: InstancePaths; config: InstanceConfig }> {
  const image = input.image ?? warmDir;
  checkWarmInput(input, image);
  const ports = mergePorts([], input.ports ?? []);
  const { readWarmRecord, checkWarmHost } = await import('../guest/warm/restore.js');
  const record = await readWarmRecord(warmDir);
  // A warm image this host cannot load is refused now, not at the first start.
  await checkWarmHost(record, warmDir, {});
  checkGuestMemory(record.memoryMiB);
  return layDown(input.name, paths, options, async () => {
    const config = await createWarmFiles({ name: input.name, image, ports }, { dir: warmDir, record }, paths);
    return {
      ...config,
      ...(input.sandbox === false && { sandbox: false }),
      ...(input.runAsRoot && { runAsRoot: true }),
    };
  });
}

const exists = (name: string, dir: string) =>
  new QlaunchError(ErrorCode.INSTANCE_EXISTS, `instance ${name} already exists (${dir})`, {
    hint: `pick another name, or remove it first with \`qlaunch rm ${name}\``,
  });
