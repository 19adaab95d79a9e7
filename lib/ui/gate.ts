// The one check every request and websocket passes first (pure): the right Host, the token, and, for a websocket
// or a write, the page's own Origin.

import { ErrorCode, QlaunchError } from '../errors.js';
import { authorize, sameToken, tokenCookie } from './auth.js';
import { hostAllowed, originAllowed, type Served, urlHost } from './origin.js';

export interface GateInput {
  method: string;
  pathname: string;
  /** `?token=` of the URL, if any. */
  queryToken?: string | null | undefined;
  host?: string | undefined;
  origin?: string | undefined;
  authorization?: string | undefined;
  cookie?: string | undefined;
  websocket: boolean;
}

export type GateDecision =
  | { kind: 'allow' }
  /** The URL's token is good: set it as the cookie and send the browser on to the URL without it. */
  | { kind: 'redirect'; location: string; setCookie: string }
  | { kind: 'refuse'; error: QlaunchError };

const READS = new Set(['GET', 'HEAD']);

const refuse = (code: ErrorCode, message: string, hint: string): GateDecision => ({
  kind: 'refuse',
  error: new QlaunchError(code, message, { hint }),
});

export function gate(input: GateInput, served: Served, token: string): GateDecision {
  const page = `http://${urlHost(served.address, served.port)}/`;
  if (!hostAllowed(input.host, served)) {
    return refuse(
      ErrorCode.UI_FORBIDDEN,
      'this request names another server in its Host header',
      `open the page at ${page} as \`qlaunch ui\` printed it`,
    );
  }
  if (typeof input.queryToken === 'string' && input.pathname === '/' && input.method === 'GET') {
    if (!sameToken(input.queryToken, token)) {
      return refuse(
        ErrorCode.UI_FORBIDDEN,
        'wrong token in the URL',
        'open the URL this `qlaunch ui` printed',
      );
    }
    return { kind: 'redirect', location: '/', setCookie: tokenCookie(token) };
  }
  const auth = authorize({ authorization: input.authorization, cookie: input.cookie }, token);
  if (!auth.ok) {
    const code = auth.status === 401 ? ErrorCode.UI_UNAUTHORIZED : ErrorCode.UI_FORBIDDEN;
    return refuse(code, auth.reason, 'open the URL with ?token= that `qlaunch ui` printed');
  }
  // A websocket is not bound by the same-origin policy, and a write must come from the page itself.
  const needsOrigin = input.websocket || !READS.has(input.method);
  const originOk = input.websocket
    ? originAllowed(input.origin, input.host)
    : input.origin === undefined || originAllowed(input.origin, input.host);
  if (needsOrigin && !originOk) {
    return refuse(
      ErrorCode.UI_FORBIDDEN,
      `requests from ${input.origin ?? 'a page with no origin'} are refused`,
      `use the page at ${page}`,
    );
  }
  return { kind: 'allow' };
}
