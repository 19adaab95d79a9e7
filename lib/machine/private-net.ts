// Private L2 networks between guests without root: each name is a loopback multicast group and port (pure).
//
// Every QEMU on a network joins the same group on 127.0.0.1 (`-netdev socket,mcast=…,localaddr=127.0.0.1`):
// the kernel loops each frame back to every member, so N guests share one segment with no daemon and no
// privileges. localaddr pins both the group membership and the sending interface to `lo`, so frames never
// reach a physical network. Not a security boundary against local users: any process on the host can join.
// `socket` rather than 7.2's `dgram` (the same socket underneath, interoperable): older QEMUs have it too.

import { createHash } from 'node:crypto';

/** A private network name: lower-case letters, digits and dashes, like a DNS label. */
export const PRIVATE_NET_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface PrivateNetSegment {
  /** IPv4 multicast group in 239.255.0.0/16 (RFC 2365 local scope). */
  group: string;
  /** UDP port below Linux's ephemeral range, so an outgoing socket rarely holds it. */
  port: number;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

// 239.255.255.0/24 holds SSDP (.250) and SLP (.253): the third octet stops at 254 to keep out of it.
const GROUP_THIRD_OCTETS = 255;
const PORT_BASE = 10_000;
const PORT_COUNT = 20_000;

/** Where network `name` lives on this host; the same name always gives the same group and port. */
export function privateNetSegment(name: string): PrivateNetSegment {
  const h = sha256(`qlaunch/private-net/${name}`);
  const group = `239.255.${h.readUInt16BE(0) % GROUP_THIRD_OCTETS}.${h.readUInt8(2)}`;
  return { group, port: PORT_BASE + (h.readUInt32BE(3) % PORT_COUNT) };
}

/** A stable, locally administered unicast MAC for VM `vmName`'s NIC on network `netName`. */
export function privateNetMac(vmName: string, netName: string): string {
  const bytes = [...sha256(`${vmName}/private/${netName}`).subarray(0, 6)];
  // Bit 1 set: locally administered; bit 0 clear: unicast.
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** True for "xx:xx:xx:xx:xx:xx" naming a unicast address (a multicast source MAC breaks every peer's ARP). */
export function isUnicastMac(mac: string): boolean {
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(mac) && (Number.parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

/** The `-netdev` value joining network `name` as netdev `id`. */
export function privateNetdev(id: string, name: string): string {
  const { group, port } = privateNetSegment(name);
  return `socket,id=${id},mcast=${group}:${port},localaddr=127.0.0.1`;
}
