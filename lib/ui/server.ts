// `qlaunch ui`'s server: node:http for the page and its API, ws for the consoles; every request through the gate.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { InstanceOptions } from '../instance/instance.js';
import * as api from './api.js';
import { newToken } from './auth.js';
import { ConsoleHub } from './console-hub.js';
import { errorReply } from './error-reply.js';
import { type GateInput, gate } from './gate.js';
import { readJson, SECURITY_HEADERS, sendError, sendJson } from './http-io.js';
import { InstanceFeed } from './instance-feed.js';
import { isLoopback, type Served, urlHost } from './origin.js';
import { type Route, route, STATIC_FILES } from './routes.js';
import { readNovnc, readPage, readStatic } from './static-files.js';
import { bridgeVnc } from './vnc-bridge.js';

export interface UiServerOptions extends InstanceOptions {
  /** The port to listen on (default: a free one). */
  port?: number | undefined;
  /** The address to listen on (default 127.0.0.1); anything but loopback exposes the page to other machines. */
  listen?: string | undefined;
}

export interface UiServer {
  /** The page's URL with the token: whoever has it controls the instances. */
  url: string;
  address: string;
  port: number;
  /** Listening on an address other machines can reach. */
  exposed: boolean;
  /** Stop serving: consoles, the event streams and the listener are closed. */
  close(): Promise<void>;
}

const gateInput = (request: IncomingMessage, url: URL, websocket: boolean): GateInput => ({
  method: request.method ?? 'GET',
  pathname: url.pathname,
  queryToken: url.searchParams.get('token'),
  host: request.headers.host,
  origin: request.headers.origin,
  authorization: request.headers.authorization,
  cookie: request.headers.cookie,
  websocket,
});

/** Serve the page for the instances under `options.root` until `close()`. */
export async function serveUi(options: UiServerOptions = {}): Promise<UiServer> {
  const instanceOptions: InstanceOptions = { root: options.root, logger: options.logger };
  const token = newToken();
  const feed = new InstanceFeed(instanceOptions);
  const hub = new ConsoleHub(instanceOptions);
  const streams = new Set<ServerResponse>();
  const served: Served = { address: options.listen ?? '127.0.0.1', port: 0 };
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  async function answer(found: Route, request: IncomingMessage, response: ServerResponse): Promise<void> {
    switch (found.kind) {
      case 'page': {
        const page = await readPage();
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
        return void response.end(request.method === 'HEAD' ? undefined : page);
      }
      case 'novnc': {
        const body = await readNovnc(found.file).catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'ENOENT'
            ? new QlaunchError(ErrorCode.UI_NOT_FOUND, `no such file: ${found.file}`, {
                hint: 'open the page',
              })
            : error;
        });
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' });
        return void response.end(request.method === 'HEAD' ? undefined : body);
      }
      case 'static': {
        const body = await readStatic(found.path);
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': STATIC_FILES[found.path].type });
        return void response.end(request.method === 'HEAD' ? undefined : body);
      }
      case 'events': {
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream' });
        streams.add(response);
        const unsubscribe = feed.subscribe((json) => response.write(`event: instances\ndata: ${json}\n\n`));
        request.once('close', () => {
          unsubscribe();
          streams.delete(response);
        });
        return;
      }
      case 'list':
        return sendJson(response, 200, await api.listInstances(instanceOptions));
      case 'snapshots':
        return sendJson(response, 200, await api.listSnapshots(found.name, instanceOptions));
      case 'ports':
        return sendJson(response, 200, await api.listPorts(found.name, instanceOptions));
      case 'screen': {
        const png = await api.screenshot(found.name, instanceOptions);
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'image/png' });
        return void response.end(png);
      }
      case 'logs': {
        const text = await api.readLog(found.name, found.source, instanceOptions);
        response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
        return void response.end(text);
      }
      case 'vnc':
      case 'console':
        throw new QlaunchError(ErrorCode.USAGE, `the ${found.kind} is a websocket`, {
          hint: 'open it from the page (a websocket upgrade request)',
        });
    }
    // The rest change something: the list is read again when they end, however they end.
    try {
      const body = await readJson(request);
      switch (found.kind) {
        case 'create':
          return sendJson(response, 201, await api.createInstance(body, instanceOptions));
        case 'action':
          return sendJson(response, 200, await api.runAction(found.name, found.action, instanceOptions));
        case 'remove':
          return sendJson(response, 200, await api.removeInstance(found.name, body, instanceOptions));
        case 'port-add':
          return sendJson(response, 201, await api.addPort(found.name, body, instanceOptions));
        case 'port-remove':
          return sendJson(
            response,
            200,
            await api.removePort(found.name, found.hostPort, found.protocol, instanceOptions),
          );
        case 'snapshot-save':
          return sendJson(response, 201, await api.saveSnapshot(found.name, body, instanceOptions));
        case 'snapshot-load':
          return sendJson(response, 200, await api.loadSnapshot(found.name, found.tag, instanceOptions));
        case 'snapshot-delete':
          return sendJson(response, 200, await api.deleteSnapshot(found.name, found.tag, instanceOptions));
      }
    } finally {
      feed.changed();
    }
  }

  async function onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const decision = gate(gateInput(request, url, false), served, token);
      if (decision.kind === 'refuse') return sendError(response, decision.error);
      if (decision.kind === 'redirect') {
        response.writeHead(303, {
          ...SECURITY_HEADERS,
          Location: decision.location,
          'Set-Cookie': decision.setCookie,
        });
        return void response.end();
      }
      const found = route(request.method ?? 'GET', url.pathname);
      if (found.kind === 'not-found') {
        throw new QlaunchError(ErrorCode.UI_NOT_FOUND, `nothing is served at ${url.pathname}`, {
          hint: 'open the page at / and use it from there',
        });
      }
      if (found.kind === 'method-not-allowed') {
        response.setHeader('Allow', found.allow);
        throw new QlaunchError(ErrorCode.UI_METHOD, `${request.method} is not allowed on ${url.pathname}`, {
          hint: `use ${found.allow}`,
        });
      }
      await answer(found, request, response);
    } catch (error) {
      if (!response.headersSent) sendError(response, error);
      else response.destroy();
    }
  }

  function onUpgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(request.url ?? '/', 'http://localhost');
    const decision = gate(gateInput(request, url, true), served, token);
    const found = route('GET', url.pathname);
    const refusal =
      decision.kind !== 'allow'
        ? decision.kind === 'refuse'
          ? decision.error
          : new QlaunchError(ErrorCode.UI_UNAUTHORIZED, 'a websocket takes no token in its URL')
        : found.kind !== 'console' && found.kind !== 'vnc'
          ? new QlaunchError(ErrorCode.UI_NOT_FOUND, `no websocket is served at ${url.pathname}`)
          : undefined;
    if (refusal || (found.kind !== 'console' && found.kind !== 'vnc')) {
      const { status, body } = errorReply(refusal);
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Not Found'}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
      return;
    }
    sockets.handleUpgrade(request, socket, head, (viewer) =>
      found.kind === 'vnc'
        ? void bridgeVnc(found.name, viewer, instanceOptions)
        : void hub.join(found.name, viewer),
    );
  }

  const server = createServer((request, response) => void onRequest(request, response));
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new QlaunchError(
          ErrorCode.UI_LISTEN,
          `cannot listen on ${urlHost(served.address, options.port ?? 0)}: ${error.code ?? error.message}`,
          {
            hint:
              error.code === 'EADDRINUSE'
                ? 'another program has that port: pick another with --port, or leave --port out for a free one'
                : 'check the --listen address is one of this machine’s',
            cause: error,
          },
        ),
      ),
    );
    server.listen(options.port ?? 0, served.address, () => resolve());
  });
  served.port = (server.address() as AddressInfo).port;
  await feed.start();

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost(served.address, served.port)}/?token=${token}`,
    address: served.address,
    port: served.port,
    exposed: !isLoopback(served.address),
    close: () => {
      closing ??= (async () => {
        feed.close();
        hub.close();
        for (const client of sockets.clients) client.terminate();
        for (const stream of streams) stream.end();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
