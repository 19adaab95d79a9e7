// Stable MAC addresses for an instance's NICs: derived from its name, so they survive restarts (pure).

import { createHash } from 'node:crypto';

/** A locally administered unicast MAC (first octet x2, x6, xA or xE) from `seed`. */
export function stableMac(seed: string): string {
  const bytes = [...createHash('sha256').update(seed).digest().subarray(0, 6)];
  bytes[0] = ((bytes[0] ?? 0) & 0xfc) | 0x02;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
