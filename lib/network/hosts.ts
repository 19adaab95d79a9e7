// The block of /etc/hosts qlaunch keeps in each member of a private network: every member by NAME.NET, and by NAME
// on the first of the member's networks that has it. Pure: the caller reads and writes the guest's file.

import type { NetworkRecord } from './record.js';

export const HOSTS_BEGIN = '# qlaunch networks: begin (rewritten when a member starts; edits here are lost)';
export const HOSTS_END = '# qlaunch networks: end';

const byName = <T>([a]: [string, T], [b]: [string, T]): number => (a < b ? -1 : a > b ? 1 : 0);

/** The hosts lines member `self` needs, from the records of its networks (in the order given; others ignored). */
export function hostsLines(self: string, networks: readonly NetworkRecord[]): string[] {
  const named = new Set<string>();
  const lines: string[] = [];
  for (const network of networks) {
    if (!network.members[self]) continue;
    for (const [member, { address }] of Object.entries(network.members).sort(byName)) {
      const names = [`${member}.${network.name}`];
      // A bare name means one address: the first network's, as the member's own hostname would.
      if (!named.has(member)) names.unshift(member);
      named.add(member);
      lines.push(`${address}\t${names.join(' ')}`);
    }
  }
  return lines;
}

/** `hosts` (a whole /etc/hosts) with qlaunch's block replaced by `lines`, or added at its end; no lines, no block. */
export function withHostsBlock(hosts: string, lines: readonly string[]): string {
  const kept = hosts.split('\n');
  const begin = kept.indexOf(HOSTS_BEGIN);
  if (begin >= 0) {
    const end = kept.indexOf(HOSTS_END, begin);
    // A block cut short (an edit, a full disk) loses only its own lines: the begin marker is all that is known.
    kept.splice(begin, end > begin ? end - begin + 1 : 1);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  const block = lines.length > 0 ? [HOSTS_BEGIN, ...lines, HOSTS_END] : [];
  const text = [...kept, ...block].join('\n');
  return text === '' ? '' : `${text}\n`;
}
