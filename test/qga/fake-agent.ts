// A scriptable fake qemu-guest-agent on a unix socket, for the protocol edge cases a real agent will not produce.

import net from 'node:net';

export type Json = Record<string, unknown>;

export interface FakeAgentConnection {
  socket: net.Socket;
  /** Every request received, in order, including the syncs. */
  received: Json[];
  /** How many 0xFF bytes the client sent (it should send one before every sync). */
  resets: number;
  /** Writes an object as one line, or a raw string / bytes as they are. */
  send(message: Json | string | Buffer): void;
  /** Resolves with the next request the handler left unanswered (or the oldest one not yet taken). */
  nextRequest(): Promise<Json>;
}

/** Answers a request the way the agent does; returns true when it did, false to leave it to the test. */
export type FakeAgentHandler = (request: Json, connection: FakeAgentConnection) => boolean | undefined;

export interface FakeAgentOptions {
  /** Tried first for every request; `undefined`/false falls through to the defaults (sync, ping, info). */
  handler?: FakeAgentHandler;
  /** Answer guest-sync-delimited like the agent (0xFF + return). Default true. */
  sync?: boolean;
}

export interface FakeAgent {
  path: string;
  connections: FakeAgentConnection[];
  nextConnection(): Promise<FakeAgentConnection>;
  close(): Promise<void>;
}

/** `{"return": value, "id": …}` echoing the request's id, as the agent does. */
export const replyTo = (request: Json, value: unknown = {}): Json =>
  'id' in request ? { return: value, id: request['id'] } : { return: value };

export const errorTo = (request: Json, errorClass: string, desc: string): Json =>
  'id' in request
    ? { id: request['id'], error: { class: errorClass, desc } }
    : { error: { class: errorClass, desc } };

/** The delimited sync reply: the sentinel byte, then the id. */
export const syncReply = (id: unknown): Buffer =>
  Buffer.concat([Buffer.of(0xff), Buffer.from(`${JSON.stringify({ return: id })}\n`)]);

export const syncId = (request: Json): unknown => (request['arguments'] as Json | undefined)?.['id'];

const defaultAnswer = (
  request: Json,
  connection: FakeAgentConnection,
  options: FakeAgentOptions,
): boolean => {
  switch (request['execute']) {
    case 'guest-sync-delimited':
      if (options.sync === false) return false;
      connection.send(syncReply(syncId(request)));
      return true;
    case 'guest-ping':
      connection.send(replyTo(request));
      return true;
    case 'guest-info':
      connection.send(
        replyTo(request, {
          version: '7.2.0-fake',
          supported_commands: [{ name: 'guest-ping', enabled: true, 'success-response': true }],
        }),
      );
      return true;
    default:
      return false;
  }
};

export const startFakeAgent = async (path: string, options: FakeAgentOptions = {}): Promise<FakeAgent> => {
  const connections: FakeAgentConnection[] = [];
  const connectionWaiters: Array<(c: FakeAgentConnection) => void> = [];
  const unclaimed: FakeAgentConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const queue: Json[] = [];
    const waiters: Array<(request: Json) => void> = [];
    const connection: FakeAgentConnection = {
      socket,
      received: [],
      resets: 0,
      send: (message) => {
        if (socket.destroyed) return;
        socket.write(
          typeof message === 'string' || Buffer.isBuffer(message) ? message : `${JSON.stringify(message)}\n`,
        );
      },
      nextRequest: () => {
        const queued = queue.shift();
        return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
      },
    };
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const ff = buffered.indexOf(0xff);
        const end = buffered.indexOf(0x0a);
        if (ff !== -1 && (end === -1 || ff < end)) {
          // Like the agent's parser: 0xFF drops what was read so far of the current request.
          connection.resets++;
          buffered = buffered.subarray(ff + 1);
          continue;
        }
        if (end === -1) break;
        const request = JSON.parse(buffered.subarray(0, end).toString('utf8')) as Json;
        buffered = buffered.subarray(end + 1);
        connection.received.push(request);
        if (options.handler?.(request, connection) || defaultAnswer(request, connection, options)) continue;
        const waiter = waiters.shift();
        if (waiter) waiter(request);
        else queue.push(request);
      }
    });
    connections.push(connection);
    const waiter = connectionWaiters.shift();
    if (waiter) waiter(connection);
    else unclaimed.push(connection);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  return {
    path,
    connections,
    nextConnection: () => {
      const existing = unclaimed.shift();
      return existing ? Promise.resolve(existing) : new Promise((resolve) => connectionWaiters.push(resolve));
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
