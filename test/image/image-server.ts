// A local HTTP server for the image tests (this machine has no internet): fixed routes, request counts, redirects,
// a connection dropped mid-body and a body that stalls.

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Route {
  status?: number;
  body?: Buffer | string;
  /** Send a Content-Length (default true). */
  length?: boolean;
  /** Send this many bytes of the body, then destroy the connection. */
  dropAfter?: number;
  /** Send this many bytes of the body, then nothing more until the client goes away. */
  stallAfter?: number;
  /** 302 to this path. */
  redirect?: string;
  /** Accept the request and never answer it. */
  silent?: boolean;
}

export interface ImageServer {
  url: (path: string) => string;
  /** GET requests a path has had. */
  hits: (path: string) => number;
  routes: Record<string, Route>;
  /** Resolves once a stalling route has sent its bytes. */
  stalled: Promise<void>;
}

export async function imageServer(
  t: { teardown: (fn: () => unknown) => void },
  routes: Record<string, Route>,
  /** Listen on this port (default: any free one). */
  port = 0,
): Promise<ImageServer> {
  const counts = new Map<string, number>();
  let onStall: () => void = () => {};
  const stalled = new Promise<void>((resolve) => (onStall = resolve));
  const server = createServer((req, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such file\n');
      return;
    }
    if (route.silent) return;
    if (route.redirect) {
      res.writeHead(302, { location: route.redirect }).end();
      return;
    }
    const body = Buffer.from(route.body ?? '');
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (route.length !== false) headers['content-length'] = body.length;
    res.writeHead(route.status ?? 200, headers);
    if (route.dropAfter !== undefined) {
      res.write(body.subarray(0, route.dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    if (route.stallAfter !== undefined) {
      res.write(body.subarray(0, route.stallAfter), () => onStall());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const bound = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${bound}${path}`,
    hits: (path) => counts.get(path) ?? 0,
    routes,
    stalled,
  };
}
