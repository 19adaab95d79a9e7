// Host forwards as QEMU itself reports them (HMP `info usernet`): the truth about which ports a guest has, including
// the real port of a forward asked for with host port 0.

import type { PortForward } from '../../machine/spec.js';
import type { QmpClient } from '../../qmp/index.js';

const FORWARD = /^\s*(TCP|UDP)\[HOST_FORWARD\]\s+-?\d+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)/;

/** The HOST_FORWARD rows of `info usernet` output. */
export function parseUsernetForwards(text: string): PortForward[] {
  const forwards: PortForward[] = [];
  for (const line of text.split('\n')) {
    const match = FORWARD.exec(line);
    if (!match) continue;
    forwards.push({
      protocol: match[1] === 'UDP' ? 'udp' : 'tcp',
      hostAddress: match[2] === '*' ? '0.0.0.0' : (match[2] ?? ''),
      hostPort: Number(match[3]),
      guestPort: Number(match[5]),
    });
  }
  return forwards;
}

/** The forwards QEMU has now. */
export async function listForwards(qmp: QmpClient): Promise<PortForward[]> {
  return parseUsernetForwards(await qmp.execute('human-monitor-command', { 'command-line': 'info usernet' }));
}
