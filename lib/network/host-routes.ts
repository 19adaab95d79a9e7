// The host's IPv4 routes (from /proc/net/route), which a private network's subnet must not overlap: a guest's
// private link there would hide part of the host's network from it.

import { readFile } from 'node:fs/promises';
import type { Subnet } from './subnet.js';

// /proc/net/route writes addresses as 8 hex digits in host byte order (little-endian on every arch qlaunch runs on).
const fromHex = (hex: string): number => Buffer.from(hex, 'hex').readUInt32LE(0);

const prefixOf = (mask: number): number => {
  let bits = 0;
  for (let m = mask; m & 0x80000000; m = (m << 1) >>> 0) bits++;
  return bits;
};

/** The routed subnets in the text of /proc/net/route (pure); the default route, which covers everything, is left out. */
export function parseRouteTable(text: string): Subnet[] {
  const routes: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const [destination, mask] = [fields[1], fields[7]];
    if (!destination || !mask || !/^[0-9A-Fa-f]{8}$/.test(destination) || !/^[0-9A-Fa-f]{8}$/.test(mask))
      continue;
    const prefix = prefixOf(fromHex(mask));
    if (prefix === 0) continue;
    const seen = routes.some((r) => r.prefix === prefix && r.base === fromHex(destination));
    if (!seen) routes.push({ base: fromHex(destination), prefix });
  }
  return routes;
}

/** The host's routes now; none when /proc is not there to read (the choice then only avoids other networks). */
export async function hostRoutes(path = '/proc/net/route'): Promise<Subnet[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return parseRouteTable(text);
}
