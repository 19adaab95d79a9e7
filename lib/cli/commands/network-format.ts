// How `qlaunch network` shows private networks to people: the `ls` table and the `inspect` fields. Pure.

import { hostAddress } from '../../network/host-plan.js';
import type { NetworkRecord } from '../../network/record.js';
import { printable } from '../printable.js';

/** A network whose record cannot be read: listed by name with why. */
interface DamagedNetwork {
  name: string;
  error: string;
}

const table = (rows: string[][]): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`;
};

const memberNames = (record: NetworkRecord): string[] => Object.keys(record.members).sort();

/** The `ls` table: name, subnet, members; a damaged record's error last, on one line. */
export function formatNetworkTable(networks: readonly (NetworkRecord | DamagedNetwork)[]): string {
  if (networks.length === 0) {
    return 'no networks; `qlaunch network create NAME` makes one, as does `qlaunch create VM --network private:NAME`\n';
  }
  const rows = [['NAME', 'SUBNET', 'MEMBERS']];
  for (const n of networks) {
    if ('error' in n)
      rows.push([printable(n.name), '-', printable(`damaged: ${n.error.replaceAll('\n', '; ')}`)]);
    else rows.push([n.name, n.subnet, memberNames(n).join(',') || '-']);
  }
  return table(rows);
}

/** The `inspect` fields, then one line per member: its name, address and MAC. */
export function formatNetworkDetails(record: NetworkRecord, file: string): string {
  const names = memberNames(record);
  const lines = [
    `name:     ${record.name}`,
    `subnet:   ${record.subnet}`,
    `created:  ${record.created}`,
    ...(record.host
      ? [
          `bridge:   ${record.host.bridge} (host ${hostAddress(record.subnet)}${record.host.nat ? ', NAT' : ''})`,
        ]
      : []),
    `file:     ${file}`,
    `members:  ${names.length === 0 ? 'none' : names.length}`,
  ];
  if (names.length > 0) {
    const rows = [['  MEMBER', 'ADDRESS', 'MAC']];
    for (const name of names) {
      const m = record.members[name];
      // A throwaway guest is named with the process that launched it: it is a member while that one runs.
      if (m) rows.push([`  ${name}${m.owner ? ` (run, pid ${m.owner.pid})` : ''}`, m.address, m.mac]);
    }
    return `${lines.join('\n')}\n${table(rows)}`;
  }
  return `${lines.join('\n')}\n`;
}
