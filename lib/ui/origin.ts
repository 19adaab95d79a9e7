// Where a request may come from: its Host must be the address served (no DNS rebinding), a websocket's or a
// write's Origin must be the page's own.

import { isIP } from 'node:net';

export interface Served {
  /** The address listened on, as given (127.0.0.1, ::1, 0.0.0.0, a host's address). */
  address: string;
  port: number;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The host name and port of a Host header (pure); IPv6 literals come bracketed. */
export function parseHost(header: string): { hostname: string; port: number | undefined } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header);
  if (!match) return undefined;
  const hostname = (match[1] ?? '').replace(/^\[|\]$/g, '').toLowerCase();
  return { hostname, port: match[2] === undefined ? undefined : Number(match[2]) };
}

/**
 * Whether the Host header names the server (pure): the address listened on, `localhost`, or — listening on every
 * interface — any IP literal; always with the port. A rebinding attack needs a DNS name, so none other passes.
 */
export function hostAllowed(header: string | undefined, served: Served): boolean {
  const host = header === undefined ? undefined : parseHost(header);
  if (!host || host.port !== served.port) return false;
  if (host.hostname === served.address.toLowerCase() || host.hostname === 'localhost') return true;
  return WILDCARDS.has(served.address) && isIP(host.hostname) !== 0;
}

/** Whether an Origin header is the page's own: http:// and the Host the request was sent to (pure). */
export const originAllowed = (origin: string | undefined, host: string | undefined): boolean =>
  origin !== undefined && host !== undefined && origin === `http://${host}`;

/** Whether an address is loopback (pure): listening anywhere else exposes the page to other machines. */
export const isLoopback = (address: string): boolean =>
  address === 'localhost' || address === '::1' || /^127(\.\d{1,3}){3}$/.test(address);

/** The URL host part for an address: IPv6 literals in brackets (pure). */
export const urlHost = (address: string, port: number): string =>
  `${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
