// Private networks as qlaunch keeps them: made (with a given or chosen subnet), listed, removed when empty, and
// joined and left by instances, each join giving the instance the lowest free address. Every change holds the lock.

import { readdir, rm } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import { PRIVATE_NET_NAME } from '../machine/private-net.js';
import { didYouMean } from '../machine/suggest.js';
import { processAlive, processStartTicks } from '../process-alive.js';
import { bringUp, newHostPart, takeDown } from './host-members.js';
import { hostRoutes } from './host-routes.js';
import { requireRoot } from './host-run.js';
import { withNetworksLock } from './lock.js';
import {
  checkNetworkName,
  type NetworkMember,
  type NetworkRecord,
  networkPath,
  networksDir,
  readNetworkRecord,
  writeNetworkRecord,
} from './record.js';
import {
  checkSubnet,
  chooseSubnet,
  formatSubnet,
  lowestFreeAddress,
  memberCapacity,
  parseSubnet,
  type TakenSubnets,
} from './subnet.js';

export interface NetworkStoreOptions {
  /** Where network records live (default `<qlaunch home>/networks`). */
  dir?: string | undefined;
  /** The host's routes (default: read from /proc/net/route); tests pass their own. */
  routes?: TakenSubnets['routes'] | undefined;
  /** The caller's uid (default: this process's): host networks are root's. */
  uid?: number | undefined;
}

/** How a network is made: its subnet, and for a host network (root) a bridge, with NAT to the outside or not. */
export interface NetworkSettings {
  subnet?: string | undefined;
  host?: boolean | undefined;
  nat?: boolean | undefined;
}

const dirOf = (options: NetworkStoreOptions): string => options.dir ?? networksDir();

/** Whether a throwaway member's launching process is still the one recorded (an instance member always is). */
async function ownerLives(held: NetworkMember): Promise<boolean> {
  if (!held.owner) return true;
  const { pid, startTicks } = held.owner;
  if (!processAlive(pid)) return false;
  return startTicks === undefined || (await processStartTicks(pid)) === startTicks;
}

/** `record` without the throwaway members whose launching process is gone (killed before it could leave). */
async function withoutGone(record: NetworkRecord): Promise<NetworkRecord> {
  const entries = Object.entries(record.members);
  const live = await Promise.all(entries.map(([, held]) => ownerLives(held)));
  if (live.every(Boolean)) return record;
  return { ...record, members: Object.fromEntries(entries.filter((_, i) => live[i])) };
}

/** The names of the networks in `dir` (records only, damaged or not). */
async function networkNames(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .filter((name) => PRIVATE_NET_NAME.test(name))
    .sort();
}

/** Every readable network, and each damaged one with what is wrong. */
export async function listNetworks(
  options: NetworkStoreOptions = {},
): Promise<{ networks: NetworkRecord[]; broken: { name: string; problem: string }[] }> {
  const dir = dirOf(options);
  const networks: NetworkRecord[] = [];
  const broken: { name: string; problem: string }[] = [];
  for (const name of await networkNames(dir)) {
    try {
      const record = await readNetworkRecord(networkPath(dir, name));
      if (record) networks.push(await withoutGone(record));
    } catch (error) {
      broken.push({ name, problem: (error as Error).message });
    }
  }
  return { networks, broken };
}

/** Network `name`'s record; an unknown one is an error that says how to make it. */
export async function getNetwork(name: string, options: NetworkStoreOptions = {}): Promise<NetworkRecord> {
  const dir = dirOf(options);
  const record = await readNetworkRecord(networkPath(dir, name));
  if (record) return withoutGone(record);
  const close = didYouMean(name, await networkNames(dir));
  throw new QlaunchError(ErrorCode.NETWORK_NOT_FOUND, `no network named ${name}`, {
    hint: `${close} \`qlaunch network ls\` lists networks; \`qlaunch network create ${name}\` makes one`.trim(),
  });
}

/** What a new subnet must not overlap: the host's routes and every other network's subnet. */
async function takenSubnets(options: NetworkStoreOptions): Promise<TakenSubnets> {
  const { networks } = await listNetworks(options);
  return {
    routes: options.routes ?? (await hostRoutes()),
    networks: networks.map((n) => ({ name: n.name, subnet: parseSubnet(n.subnet) })),
  };
}

/** A new record for network `name`: the subnet given (checked), else the one its name points to that is free. */
async function newRecord(
  name: string,
  subnet: string | undefined,
  options: NetworkStoreOptions,
): Promise<NetworkRecord> {
  const taken = await takenSubnets(options);
  const chosen = subnet === undefined ? chooseSubnet(name, taken) : checkSubnet(name, subnet, taken);
  return { schema: 1, name, subnet: formatSubnet(chosen), created: new Date().toISOString(), members: {} };
}

/**
 * Make network `name`, with `subnet` (CIDR) or a chosen one; an existing network is refused. A host network's bridge
 * (and NAT) is made on the host at once; if that fails, nothing of it is left, record or bridge.
 */
export async function createNetwork(
  name: string,
  settings: NetworkSettings = {},
  options: NetworkStoreOptions = {},
): Promise<NetworkRecord> {
  const dir = dirOf(options);
  const path = networkPath(dir, checkNetworkName(name));
  if (settings.nat && !settings.host) {
    throw new QlaunchError(ErrorCode.USAGE, `--nat is for host networks: network ${name} is not one`, {
      hint: `add --host (as root): \`qlaunch network create ${name} --host --nat\``,
    });
  }
  if (settings.host) requireRoot(`host network ${name}`, options.uid);
  return withNetworksLock(dir, async () => {
    const existing = await readNetworkRecord(path);
    if (existing) {
      throw new QlaunchError(
        ErrorCode.NETWORK_EXISTS,
        `network ${name} already exists (${existing.subnet})`,
        {
          hint: `pick another name, or remove it first with \`qlaunch network rm ${name}\``,
        },
      );
    }
    const plain = await newRecord(name, settings.subnet, options);
    const record = settings.host ? { ...plain, host: newHostPart(name, settings.nat ?? false) } : plain;
    // Recorded before anything is made on the host: a crash part way leaves a record that says what to remove.
    await writeNetworkRecord(path, record);
    if (record.host) {
      const made = { ...record, host: record.host };
      try {
        await bringUp(made);
      } catch (error) {
        await takeDown(made).catch(() => undefined);
        await rm(path, { force: true });
        throw error;
      }
    }
    return record;
  });
}

/** Remove network `name`; refused while instances are members of it, naming them. */
export async function removeNetwork(name: string, options: NetworkStoreOptions = {}): Promise<NetworkRecord> {
  const dir = dirOf(options);
  return withNetworksLock(dir, async () => {
    const record = await getNetwork(name, options);
    const members = Object.keys(record.members).sort();
    if (members.length > 0) {
      throw new QlaunchError(
        ErrorCode.NETWORK_IN_USE,
        `network ${name} has members: ${members.join(', ')}; not removing it`,
        { hint: `remove them first (\`qlaunch rm ${members.join(' ')}\`), then the network` },
      );
    }
    if (record.host) {
      requireRoot(`removing host network ${name}`, options.uid);
      await takeDown({ ...record, host: record.host });
    }
    await rm(networkPath(dir, name));
    return record;
  });
}

/** An instance's place on a network: the network's subnet, and the instance's address and MAC on it. */
export interface NetworkLease extends NetworkMember {
  network: string;
  subnet: string;
  prefix: number;
}

const leaseOf = (record: NetworkRecord, held: NetworkMember): NetworkLease => ({
  network: record.name,
  subnet: record.subnet,
  prefix: parseSubnet(record.subnet).prefix,
  ...held,
});

/**
 * Make instance `member` (with NIC `mac`) a member of network `name`, made with a chosen subnet on first use: it
 * gets the lowest free address and keeps it; a member joining again gets the address it has.
 */
export async function joinNetwork(
  name: string,
  member: string,
  mac: string,
  options: NetworkStoreOptions = {},
  how: Pick<NetworkMember, 'agent' | 'owner'> = {},
): Promise<NetworkLease> {
  const dir = dirOf(options);
  const path = networkPath(dir, name);
  return withNetworksLock(dir, async () => {
    const stored = await readNetworkRecord(path);
    // The addresses of throwaway guests whose launcher was killed are free again.
    const record = stored ? await withoutGone(stored) : await newRecord(name, undefined, options);
    if (record.host) requireRoot(`a member of host network ${name}`, options.uid);
    const held = record.members[member];
    if (held && (held.owner || how.owner)) {
      throw new QlaunchError(
        ErrorCode.NETWORK_MEMBER_TAKEN,
        `network ${name} already has a member named ${member}${held.owner ? ` (a running guest, pid ${held.owner.pid})` : ' (an instance)'}`,
        { hint: 'give the guest another name (--hostname NAME), so that each member has its own' },
      );
    }
    if (held && held.mac === mac && held.agent === how.agent) {
      if (stored !== record) await writeNetworkRecord(path, record);
      return leaseOf(record, held);
    }
    const others = Object.entries(record.members).filter(([other]) => other !== member);
    const subnet = parseSubnet(record.subnet);
    const address =
      held?.address ??
      lowestFreeAddress(
        subnet,
        others.map(([, m]) => m.address),
      );
    if (address === undefined) {
      throw new QlaunchError(
        ErrorCode.NETWORK_FULL,
        `network ${name} (${record.subnet}) has no free address for ${member}: its ${memberCapacity(subnet)} are held by ${others.map(([n]) => n).join(', ')}`,
        {
          hint: `remove a member (\`qlaunch rm NAME\`), or use another network with a larger subnet (\`qlaunch network create NET --subnet CIDR\`)`,
        },
      );
    }
    const joined: NetworkMember = {
      address,
      mac,
      ...(how.agent !== undefined && { agent: how.agent }),
      ...(how.owner !== undefined && { owner: how.owner }),
    };
    await writeNetworkRecord(path, { ...record, members: { ...record.members, [member]: joined } });
    return leaseOf(record, joined);
  });
}

/** Free instance `member`'s address on network `name`; nothing to do when it holds none (or the network is gone). */
export async function leaveNetwork(
  name: string,
  member: string,
  options: NetworkStoreOptions = {},
): Promise<void> {
  const dir = dirOf(options);
  const path = networkPath(dir, name);
  await withNetworksLock(dir, async () => {
    const record = await readNetworkRecord(path);
    if (!record?.members[member]) return;
    const { [member]: _left, ...members } = record.members;
    await writeNetworkRecord(path, { ...record, members });
  });
}

/** Free instance `member`'s addresses on every network in the directory (damaged records are left alone). */
export async function leaveAllNetworks(member: string, options: NetworkStoreOptions = {}): Promise<string[]> {
  const dir = dirOf(options);
  // No networks yet: nothing to leave, and removing an instance must not make the directory.
  if ((await networkNames(dir)).length === 0) return [];
  return withNetworksLock(dir, async () => {
    const left: string[] = [];
    for (const name of await networkNames(dir)) {
      const path = networkPath(dir, name);
      const record = await readNetworkRecord(path).catch(() => undefined);
      if (!record?.members[member]) continue;
      const { [member]: _left, ...members } = record.members;
      await writeNetworkRecord(path, { ...record, members });
      left.push(name);
    }
    return left;
  });
}
