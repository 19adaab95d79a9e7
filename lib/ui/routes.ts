// The server's routing table (pure): a method and a path name to what answers them.

import { LOG_SOURCES, type LogSource } from '../instance/logs.js';

/** Files the page loads: its own, and the terminal from its npm packages (no CDN: the machine may be offline). */
export const STATIC_FILES = {
  '/assets/app.js': { pkg: 'self', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/app.css': { pkg: 'self', file: 'app.css', type: 'text/css; charset=utf-8' },
  '/vendor/xterm.mjs': { pkg: '@xterm/xterm', file: 'lib/xterm.mjs', type: 'text/javascript; charset=utf-8' },
  '/vendor/xterm.css': { pkg: '@xterm/xterm', file: 'css/xterm.css', type: 'text/css; charset=utf-8' },
  '/vendor/addon-fit.mjs': {
    pkg: '@xterm/addon-fit',
    file: 'lib/addon-fit.mjs',
    type: 'text/javascript; charset=utf-8',
  },
} as const;

export type StaticPath = keyof typeof STATIC_FILES;

/** noVNC's ES modules (its core and the inflate it vendors), loaded by the page only when a live screen opens. */
const NOVNC_FILE = /^\/vendor\/novnc\/((?:core|vendor\/pako\/lib)\/[A-Za-z0-9_/-]+\.js)$/;

/** What the page can ask an instance to do; each is one library operation. */
export const ACTIONS = ['start', 'stop', 'force-stop', 'restart', 'pause', 'resume'] as const;
export type Action = (typeof ACTIONS)[number];

export type Route =
  | { kind: 'page' }
  | { kind: 'static'; path: StaticPath }
  | { kind: 'list' }
  | { kind: 'events' }
  | { kind: 'create' }
  | { kind: 'action'; name: string; action: Action }
  | { kind: 'remove'; name: string }
  | { kind: 'console'; name: string }
  | { kind: 'screen'; name: string }
  | { kind: 'vnc'; name: string }
  | { kind: 'novnc'; file: string }
  | { kind: 'logs'; name: string; source: LogSource }
  | { kind: 'ports'; name: string }
  | { kind: 'port-add'; name: string }
  | { kind: 'port-remove'; name: string; protocol: 'tcp' | 'udp'; hostPort: number }
  | { kind: 'snapshots'; name: string }
  | { kind: 'snapshot-save'; name: string }
  | { kind: 'snapshot-load'; name: string; tag: string }
  | { kind: 'snapshot-delete'; name: string; tag: string };

export type RouteResult = Route | { kind: 'not-found' } | { kind: 'method-not-allowed'; allow: string };

const segment = (text: string): string | undefined => {
  try {
    const value = decodeURIComponent(text);
    return value === '' || value.includes('/') ? undefined : value;
  } catch {
    return undefined;
  }
};

const isAction = (text: string): text is Action => (ACTIONS as readonly string[]).includes(text);

/** The routes of one path, by method (pure). */
function routesOf(pathname: string): Record<string, Route> | undefined {
  if (pathname === '/') return { GET: { kind: 'page' } };
  if (Object.hasOwn(STATIC_FILES, pathname)) return { GET: { kind: 'static', path: pathname as StaticPath } };
  if (pathname === '/api/instances') return { GET: { kind: 'list' }, POST: { kind: 'create' } };
  if (pathname === '/api/events') return { GET: { kind: 'events' } };
  const novnc = NOVNC_FILE.exec(pathname)?.[1];
  if (novnc !== undefined && !novnc.split('/').includes('..')) return { GET: { kind: 'novnc', file: novnc } };
  const parts = pathname.split('/');
  if (parts[1] !== 'api' || parts[2] !== 'instances' || parts[3] === undefined) return undefined;
  const name = segment(parts[3]);
  if (name === undefined) return undefined;
  const [what, tagText] = [parts[4], parts[5]];
  if (parts.length === 4) return { DELETE: { kind: 'remove', name } };
  if (parts.length === 5 && what === 'console') return { GET: { kind: 'console', name } };
  if (parts.length === 5 && what === 'screen') return { GET: { kind: 'screen', name } };
  if (parts.length === 5 && what === 'vnc') return { GET: { kind: 'vnc', name } };
  if (parts.length === 5 && what !== undefined && isAction(what)) {
    return { POST: { kind: 'action', name, action: what } };
  }
  if (what === 'ports') return portRoutes(name, parts.slice(5));
  if (what === 'logs' && parts.length === 6) {
    const source = LOG_SOURCES.find((known) => known === parts[5]);
    return source === undefined ? undefined : { GET: { kind: 'logs', name, source } };
  }
  if (what !== 'snapshots') return undefined;
  if (parts.length === 5) return { GET: { kind: 'snapshots', name }, POST: { kind: 'snapshot-save', name } };
  const tag = tagText === undefined ? undefined : segment(tagText);
  if (tag === undefined) return undefined;
  if (parts.length === 6) return { DELETE: { kind: 'snapshot-delete', name, tag } };
  if (parts.length === 7 && parts[6] === 'load') return { POST: { kind: 'snapshot-load', name, tag } };
  return undefined;
}

/** `/api/instances/NAME/ports[/tcp|udp/HOSTPORT]`: the forwards QEMU has, one added, one removed. */
function portRoutes(name: string, rest: string[]): Record<string, Route> | undefined {
  if (rest.length === 0) return { GET: { kind: 'ports', name }, POST: { kind: 'port-add', name } };
  const [protocol, port] = rest;
  if (rest.length !== 2 || (protocol !== 'tcp' && protocol !== 'udp') || !/^\d{1,5}$/.test(port ?? ''))
    return undefined;
  return { DELETE: { kind: 'port-remove', name, protocol, hostPort: Number(port) } };
}

/** Route a request (pure): HEAD is answered as GET; a known path asked with another method says which it takes. */
export function route(method: string, pathname: string): RouteResult {
  const routes = routesOf(pathname);
  if (!routes) return { kind: 'not-found' };
  const found = routes[method === 'HEAD' ? 'GET' : method];
  return found ?? { kind: 'method-not-allowed', allow: Object.keys(routes).join(', ') };
}
