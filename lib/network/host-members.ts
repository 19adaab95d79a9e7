// A host network's running members: each gets a tap on the bridge when it starts and loses it when it stops; taps
// whose member died with no one to remove them (a crash, a guest that powered off) go at the network's next use.

import { processAlive, processStartTicks } from '../process-alive.js';
import {
  bridgeName,
  type HostNetworkShape,
  planBridgeDown,
  planBridgeUp,
  planTapsDown,
  planTapUp,
  tapName,
} from './host-plan.js';
import { readHostState, requireRoot, runHostSteps, tapHeld } from './host-run.js';
import { withNetworksLock } from './lock.js';
import {
  type HostNetworkRecord,
  type NetworkRecord,
  networkPath,
  readNetworkRecord,
  writeNetworkRecord,
} from './record.js';

export interface HostMemberOptions {
  /** The networks directory. */
  dir: string;
  /** The caller's uid (default: this process's): only root makes bridges and taps. */
  uid?: number | undefined;
}

type HostRecord = NetworkRecord & { host: HostNetworkRecord };

const isHost = (record: NetworkRecord | undefined): record is HostRecord => record?.host !== undefined;

export const shapeOf = (record: HostRecord): HostNetworkShape => ({
  name: record.name,
  subnet: record.subnet,
  bridge: record.host.bridge,
  nat: record.host.nat,
});

/** A new host network's part of its record: the bridge's name and NAT, and no taps yet. */
export const newHostPart = (name: string, nat: boolean): HostNetworkRecord => ({
  bridge: bridgeName(name),
  nat,
  taps: {},
});

/** Whether a member's tap may still be in use: its starter lives (a QEMU about to open it), or a QEMU holds it. */
async function tapInUse(entry: HostNetworkRecord['taps'][string]): Promise<boolean> {
  const starter = entry.starter;
  if (starter && processAlive(starter.pid) && (await processStartTicks(starter.pid)) === starter.startTicks)
    return true;
  return tapHeld(entry.tap);
}

/** `record` with the taps no one uses removed from the host and from the record (the caller holds the lock). */
export async function sweepTaps(record: HostRecord): Promise<HostRecord> {
  const entries = Object.entries(record.host.taps);
  const used = await Promise.all(entries.map(([, entry]) => tapInUse(entry)));
  const gone = entries.filter((_, i) => !used[i]);
  if (gone.length === 0) return record;
  await runHostSteps(
    planTapsDown(
      gone.map(([, e]) => e.tap),
      await readHostState(),
    ),
    `network ${record.name}`,
  );
  const taps = Object.fromEntries(entries.filter((_, i) => used[i]));
  return { ...record, host: { ...record.host, taps } };
}

/** Make (or finish making) the bridge and NAT of host network `record` on the host. */
export async function bringUp(record: HostRecord): Promise<void> {
  await runHostSteps(planBridgeUp(shapeOf(record), await readHostState()), `network ${record.name}`);
}

/** Remove everything host network `record` has on the host: its taps, NAT table and bridge. */
export async function takeDown(record: HostRecord): Promise<void> {
  const taps = Object.values(record.host.taps).map((entry) => entry.tap);
  await runHostSteps(planBridgeDown(shapeOf(record), taps, await readHostState()), `network ${record.name}`);
}

/**
 * Give member `member` of network `name` a tap on its bridge, owned by `tapUid` (the user its QEMU runs as), the
 * bridge remade first if the host lost it; undefined for a network that is not a host network.
 */
export async function attachHostMember(
  name: string,
  member: string,
  tapUid: number,
  options: HostMemberOptions,
): Promise<string | undefined> {
  const path = networkPath(options.dir, name);
  return withNetworksLock(options.dir, async () => {
    const stored = await readNetworkRecord(path);
    if (!isHost(stored)) return undefined;
    requireRoot(`a member of host network ${name}`, options.uid);
    const record = await sweepTaps(stored);
    await bringUp(record);
    const tap = tapName(name, member);
    const starter = { pid: process.pid, startTicks: await processStartTicks(process.pid) };
    // Recorded before it is made: a crash between the two leaves a name the next sweep removes.
    const taps = { ...record.host.taps, [member]: { tap, starter } };
    await writeNetworkRecord(path, { ...record, host: { ...record.host, taps } });
    await runHostSteps(planTapUp(tap, record.host.bridge, tapUid, await readHostState()), `network ${name}`);
    return tap;
  });
}

/** Remove member `member`'s tap from network `name` (it has stopped); nothing to do when it has none. */
export async function detachHostMember(
  name: string,
  member: string,
  options: HostMemberOptions,
): Promise<void> {
  const path = networkPath(options.dir, name);
  await withNetworksLock(options.dir, async () => {
    const record = await readNetworkRecord(path).catch(() => undefined);
    const entry = isHost(record) ? record.host.taps[member] : undefined;
    if (!isHost(record) || !entry) return;
    await runHostSteps(planTapsDown([entry.tap], await readHostState()), `network ${name}`);
    const { [member]: _gone, ...taps } = record.host.taps;
    await writeNetworkRecord(path, { ...record, host: { ...record.host, taps } });
  });
}

/** Remove the taps of host network `name` that no member uses any more (a crash's leftovers); root only. */
export async function sweepHostNetwork(name: string, options: HostMemberOptions): Promise<void> {
  const path = networkPath(options.dir, name);
  await withNetworksLock(options.dir, async () => {
    const record = await readNetworkRecord(path).catch(() => undefined);
    if (!isHost(record)) return;
    const swept = await sweepTaps(record);
    if (swept !== record) await writeNetworkRecord(path, swept);
  });
}
