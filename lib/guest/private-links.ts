// A throwaway cloud guest on private networks: its address on each (taken under the networks lock, owned by the
// launching process, so a killed launcher's addresses come free again), and given back when the guest is gone.

import { randomBytes } from 'node:crypto';
import type { PrivateLink } from '../cidata/cloud-config.js';
import { runAsUser, runningAsRoot, userIds } from '../host/run-as.js';
import type { Logger } from '../logger.js';
import { privateNetMac } from '../machine/private-net.js';
import type { PrivateNetwork } from '../machine/spec.js';
import { attachHostMember, detachHostMember } from '../network/host-members.js';
import { publishNames } from '../network/names.js';
import { networksDir } from '../network/record.js';
import { joinNetwork, leaveNetwork, type NetworkLease } from '../network/store.js';
import { processStartTicks } from '../process-alive.js';

export interface GuestLinks {
  /** The user NIC's MAC: the seed's network-config finds that NIC by it. */
  mac: string;
  /** What the seed's network-config sets, and what QEMU gets, for each private network. */
  links: PrivateLink[];
  nics: PrivateNetwork[];
  /** Give every address back (idempotent; never throws). */
  leave: () => Promise<void>;
  /** Write the networks' names into the guest and every member with an agent (once it is ready). */
  publish: (logger: Logger) => Promise<void>;
}

/** A locally administered unicast MAC, new for each guest (a throwaway guest has no name to derive one from). */
export function randomMac(): string {
  const bytes = [...randomBytes(6)];
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Who owns a throwaway guest's taps: the user a root-started QEMU drops to (root may use any tap), else the caller. */
async function tapOwner(): Promise<number> {
  if (!runningAsRoot()) return process.getuid?.() ?? 0;
  const user = await runAsUser();
  return (user === undefined ? undefined : (await userIds(user))?.uid) ?? 0;
}

/** Join each of `networks` as `member`, whose agent will listen on `agent`; all or none. */
export async function joinAsGuest(
  member: string,
  networks: readonly string[],
  agent: string,
  dir: string | undefined,
): Promise<GuestLinks> {
  const owner = { pid: process.pid, startTicks: await processStartTicks(process.pid) };
  const dirOrDefault = dir ?? networksDir();
  const leases: NetworkLease[] = [];
  let left = false;
  const leave = async () => {
    if (left) return;
    left = true;
    for (const lease of leases) {
      await detachHostMember(lease.network, member, { dir: dirOrDefault }).catch(() => undefined);
      await leaveNetwork(lease.network, member, { dir }).catch(() => undefined);
    }
  };
  const taps = new Map<string, string>();
  try {
    for (const network of networks) {
      const mac = privateNetMac(member, network);
      leases.push(await joinNetwork(network, member, mac, { dir }, { agent, owner }));
      const tap = await attachHostMember(network, member, await tapOwner(), { dir: dirOrDefault });
      if (tap !== undefined) taps.set(network, tap);
    }
  } catch (error) {
    await leave();
    throw error;
  }
  return {
    mac: randomMac(),
    links: leases.map(({ mac, address, prefix }) => ({ mac, address, prefix })),
    nics: leases.map(({ network, mac }) => ({ name: network, mac, tap: taps.get(network) })),
    leave,
    publish: (logger) => publishNames(member, { dir, logger }),
  };
}
