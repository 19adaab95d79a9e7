// Who may use the page: the token printed with its URL, carried as a cookie after first use or as a bearer header.

import { randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie the token becomes on first use. */
export const COOKIE_NAME = 'qlaunch_ui';

/** A fresh token: 32 random bytes, URL-safe. */
export const newToken = (): string => randomBytes(32).toString('base64url');

export interface Credentials {
  authorization?: string | undefined;
  cookie?: string | undefined;
}

export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** The value of cookie `name` in a Cookie header (pure). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Compare in constant time, so the token cannot be guessed byte by byte from response times. */
export function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Whether a request carries the token (pure): none at all is 401, a wrong one is 403. */
export function authorize(credentials: Credentials, token: string): AuthResult {
  const bearer = /^Bearer\s+(\S+)$/i.exec(credentials.authorization ?? '')?.[1];
  const cookie = cookieValue(credentials.cookie, COOKIE_NAME);
  const given = [bearer, cookie].filter((value): value is string => value !== undefined);
  if (given.length === 0) {
    return { ok: false, status: 401, reason: 'this request carries no token' };
  }
  if (given.some((value) => sameToken(value, token))) return { ok: true };
  return { ok: false, status: 403, reason: 'this request carries a wrong token' };
}

/** The Set-Cookie header that turns the URL's token into a cookie only this page's own requests carry. */
export const tokenCookie = (token: string): string =>
  `${COOKIE_NAME}=${token}; HttpOnly; SameSite=Strict; Path=/`;
