// IPv4 subnets of private networks (pure): parsing CIDRs, the private ranges, overlaps, a deterministic choice from
// a network's name, and the lowest free member address.

import { createHash } from 'node:crypto';
import { ErrorCode, QlaunchError } from '../errors.js';

/** An IPv4 subnet: its network address as an unsigned 32-bit number, and its prefix length. */
export interface Subnet {
  base: number;
  prefix: number;
}

/** The longest prefix a private network may have: a /29 still holds five members beside .1 (kept for the host). */
export const MAX_SUBNET_PREFIX = 29;

// RFC 1918: the only ranges a private network's subnet may come from.
const PRIVATE_RANGES: readonly Subnet[] = [
  { base: 0x0a000000, prefix: 8 },
  { base: 0xac100000, prefix: 12 },
  { base: 0xc0a80000, prefix: 16 },
];

/** QEMU's user-mode network (10.0.2.0/24) is on every guest's first NIC: a private subnet there would shadow it. */
export const USER_NET_SUBNET: Subnet = { base: 0x0a000200, prefix: 24 };

const mask = (prefix: number): number => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.1.2.3" → its number, or undefined when it is not a dotted quad. */
export function parseIp(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export const formatIp = (n: number): string => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');

export const formatSubnet = (s: Subnet): string => `${formatIp(s.base)}/${s.prefix}`;

const invalid = (text: string, why: string, hint: string) =>
  new QlaunchError(ErrorCode.NETWORK_SUBNET_INVALID, `subnet ${JSON.stringify(text)} ${why}`, { hint });

/** A CIDR such as "10.20.30.0/24", its host bits clear; anything else is refused with the fix. */
export function parseSubnet(text: string): Subnet {
  const [ip = '', prefixText, ...rest] = text.split('/');
  const base = parseIp(ip);
  if (base === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) {
    throw invalid(text, 'is not an IPv4 CIDR', 'write it as ADDRESS/PREFIX, e.g. 10.20.30.0/24');
  }
  const prefix = Number(prefixText);
  if (prefix > 32) throw invalid(text, 'has a prefix over 32', 'use a prefix from 8 to 29, e.g. /24');
  const network = (base & mask(prefix)) >>> 0;
  if (network !== base) {
    throw invalid(
      text,
      'has host bits set',
      `give the network address: ${formatSubnet({ base: network, prefix })}`,
    );
  }
  return { base, prefix };
}

/** Whether `inner` lies wholly inside `outer`. */
const within = (inner: Subnet, outer: Subnet): boolean =>
  inner.prefix >= outer.prefix && (inner.base & mask(outer.prefix)) >>> 0 === outer.base;

/** Whether two subnets share any address. */
export const overlaps = (a: Subnet, b: Subnet): boolean => within(a, b) || within(b, a);

/** What a subnet must not overlap: the host's routes, and other private networks' subnets, by name. */
export interface TakenSubnets {
  routes: readonly Subnet[];
  networks: readonly { name: string; subnet: Subnet }[];
}

/** Refuse a subnet given for network `name` that is not private, too small, or overlaps a route or a network. */
export function checkSubnet(name: string, text: string, taken: TakenSubnets): Subnet {
  const subnet = parseSubnet(text);
  if (!PRIVATE_RANGES.some((range) => within(subnet, range))) {
    throw invalid(
      text,
      'is not in private address space',
      'use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
    );
  }
  if (subnet.prefix > MAX_SUBNET_PREFIX) {
    throw invalid(
      text,
      `is too small: a network needs at least a /${MAX_SUBNET_PREFIX}`,
      'use a shorter prefix, e.g. /24',
    );
  }
  if (overlaps(subnet, USER_NET_SUBNET)) {
    throw invalid(
      text,
      `overlaps ${formatSubnet(USER_NET_SUBNET)}, every guest's user-mode network`,
      'pick a subnet outside it, or leave --subnet out to have one chosen',
    );
  }
  const route = taken.routes.find((r) => overlaps(subnet, r));
  if (route) {
    throw invalid(
      text,
      `overlaps the host's route to ${formatSubnet(route)}`,
      'pick a subnet no host route covers (`ip route` lists them), or leave --subnet out to have one chosen',
    );
  }
  const other = taken.networks.find((n) => n.name !== name && overlaps(subnet, n.subnet));
  if (other) {
    throw invalid(
      text,
      `overlaps network ${other.name} (${formatSubnet(other.subnet)})`,
      '`qlaunch network ls` lists the subnets in use: pick one outside them',
    );
  }
  return subnet;
}

// Chosen subnets are 10.A.B.0/24: 65,536 of them, starting where the name's hash points.
const CHOSEN_PREFIX = 24;
const CHOSEN_COUNT = 65_536;

/** The subnet network `name` gets when none is given: the same for the same name, skipping what is taken. */
export function chooseSubnet(name: string, taken: TakenSubnets): Subnet {
  const start = createHash('sha256').update(`qlaunch/network-subnet/${name}`).digest().readUInt16BE(0);
  const busy = [USER_NET_SUBNET, ...taken.routes, ...taken.networks.map((n) => n.subnet)];
  for (let i = 0; i < CHOSEN_COUNT; i++) {
    const candidate = {
      base: (0x0a000000 | (((start + i) % CHOSEN_COUNT) << 8)) >>> 0,
      prefix: CHOSEN_PREFIX,
    };
    if (!busy.some((s) => overlaps(candidate, s))) return candidate;
  }
  throw new QlaunchError(ErrorCode.NETWORK_SUBNET_INVALID, `no free /24 in 10.0.0.0/8 for network ${name}`, {
    hint: `give one with \`qlaunch network create ${name} --subnet CIDR\` (in 172.16.0.0/12 or 192.168.0.0/16)`,
  });
}

/** The address kept for a later host end of the network: the first host address (.1 in a /24). */
export const reservedAddress = (subnet: Subnet): number => subnet.base + 1;

/**
 * The lowest free member address, above the reserved one and below broadcast; undefined when all are used.
 * `used` holds dotted quads.
 */
export function lowestFreeAddress(subnet: Subnet, used: readonly string[]): string | undefined {
  const taken = new Set(used.map(parseIp));
  const broadcast = subnet.base + 2 ** (32 - subnet.prefix) - 1;
  for (let n = reservedAddress(subnet) + 1; n < broadcast; n++) {
    if (!taken.has(n)) return formatIp(n);
  }
  return undefined;
}

/** The member addresses a subnet holds (all host addresses but the reserved one). */
export const memberCapacity = (subnet: Subnet): number => 2 ** (32 - subnet.prefix) - 3;

/** The first of `routes` that subnet `cidr` now overlaps (a route added since it was chosen, a VPN's), if any. */
export function routeConflict(cidr: string, routes: readonly Subnet[]): Subnet | undefined {
  const subnet = parseSubnet(cidr);
  return routes.find((route) => overlaps(subnet, route));
}
