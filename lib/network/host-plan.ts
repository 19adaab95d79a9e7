// A host network's pieces on the host, as commands (pure): the bridge with the subnet's first address, a tap per
// running member on it, and, with NAT, one nftables table of its own; each step made only when missing, removed
// only when there, so running the plan again after a crash finishes or undoes what the last run left.

import { createHash } from 'node:crypto';
import { formatIp, parseSubnet, reservedAddress } from './subnet.js';

/** Linux's interface name limit (IFNAMSIZ 16, less the terminating NUL). */
export const IFNAME_MAX = 15;

/** What is on the host now: interface names, and nftables tables as "family name". */
export interface HostState {
  links: ReadonlySet<string>;
  tables: ReadonlySet<string>;
}

/** One command, as an argv array (never a shell string). */
export type HostStep = readonly string[];

/** What a host network is on the host: its bridge, and with NAT its table (the network record keeps these). */
export interface HostNetworkShape {
  name: string;
  subnet: string;
  bridge: string;
  nat: boolean;
}

const digest = (text: string, chars: number): string =>
  createHash('sha256').update(text).digest('hex').slice(0, chars);

/** Network `name`'s bridge: `qlb-NAME` when that fits in IFNAMSIZ, else its start and a hash of the whole name. */
export function bridgeName(name: string): string {
  const plain = `qlb-${name}`;
  return plain.length <= IFNAME_MAX ? plain : `qlb-${name.slice(0, 5)}-${digest(name, 5)}`;
}

/** Member `member`'s tap on network `network`: `qlt-` and a hash, so every pair has its own within IFNAMSIZ. */
export const tapName = (network: string, member: string): string =>
  `qlt-${digest(`${network}/${member}`, IFNAME_MAX - 4)}`;

/** The nftables table (family ip) a NAT network's masquerade rule lives in. */
export const natTable = (name: string): string => `qlaunch-${name}`;

/** The host's end of the network: the subnet's first address, with the subnet's prefix. */
export function hostAddress(subnet: string): string {
  const parsed = parseSubnet(subnet);
  return `${formatIp(reservedAddress(parsed))}/${parsed.prefix}`;
}

/** The steps that make network `net`'s bridge (and NAT table) what they should be, from `state`. */
export function planBridgeUp(net: HostNetworkShape, state: HostState): HostStep[] {
  const { bridge } = net;
  const steps: HostStep[] = [];
  if (!state.links.has(bridge)) steps.push(['ip', 'link', 'add', bridge, 'type', 'bridge']);
  // `replace` and `up` are idempotent: a bridge left by a crash gets its address and state back.
  steps.push(['ip', 'address', 'replace', hostAddress(net.subnet), 'dev', bridge]);
  steps.push(['ip', 'link', 'set', bridge, 'up']);
  if (net.nat && !state.tables.has(`ip ${natTable(net.name)}`)) steps.push(...natSteps(net));
  return steps;
}

/** Masquerade what leaves the subnet for elsewhere, and let the host forward it. */
function natSteps(net: HostNetworkShape): HostStep[] {
  const table = natTable(net.name);
  return [
    ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'],
    ['nft', 'add', 'table', 'ip', table],
    ['nft', 'add', 'chain', 'ip', table, 'postrouting', '{ type nat hook postrouting priority 100 ; }'],
    [
      'nft',
      'add',
      'rule',
      'ip',
      table,
      'postrouting',
      'ip',
      'saddr',
      net.subnet,
      'ip',
      'daddr',
      '!=',
      net.subnet,
      'masquerade',
    ],
  ];
}

/**
 * The steps that remove network `net` from the host: its taps, NAT table and bridge, those that are there.
 * ip_forward stays on: other networks and services of the host may rely on it.
 */
export function planBridgeDown(net: HostNetworkShape, taps: readonly string[], state: HostState): HostStep[] {
  return [
    ...planTapsDown(taps, state),
    ...(state.tables.has(`ip ${natTable(net.name)}`)
      ? [['nft', 'delete', 'table', 'ip', natTable(net.name)]]
      : []),
    ...(state.links.has(net.bridge) ? [['ip', 'link', 'delete', net.bridge]] : []),
  ];
}

/** The steps that make tap `tap`, owned by `uid` (the user QEMU runs as), a port of `bridge`; a stale one goes first. */
export function planTapUp(tap: string, bridge: string, uid: number, state: HostState): HostStep[] {
  return [
    ...planTapsDown([tap], state),
    ['ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap', 'user', String(uid)],
    ['ip', 'link', 'set', tap, 'master', bridge],
    ['ip', 'link', 'set', tap, 'up'],
  ];
}

/** The steps that remove those of `taps` that are there. */
export const planTapsDown = (taps: readonly string[], state: HostState): HostStep[] =>
  taps.filter((tap) => state.links.has(tap)).map((tap) => ['ip', 'tuntap', 'del', 'dev', tap, 'mode', 'tap']);
