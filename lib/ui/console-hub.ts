// The page's consoles: one connection per instance to its serial socket (QEMU serves one client at a time), its
// output fanned out to every viewer, each viewer shown the console log's tail before it joins.

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { Instance, type InstanceOptions } from '../instance/instance.js';
import { errorReply } from './error-reply.js';

/** Console lines a new viewer sees before the live output. */
const TAIL_LINES = 200;

interface Bridge {
  socket: Socket;
  viewers: Set<WebSocket>;
  /** Let go when its last viewer left: a viewer joining just then needs a new connection. */
  released: boolean;
  /** Its entry in the map, to remove only this one. */
  entry: Promise<Bridge>;
}

/** Sent as a text frame (console bytes go as binary frames): an error, or why the console ended. */
export type ConsoleNotice =
  | { type: 'error'; code: string; message: string; hint?: string | undefined }
  | { type: 'closed'; message: string }
  /** The tail is over: what follows is live (a terminal must not answer queries replayed from the log). */
  | { type: 'attached' };

const notify = (viewer: WebSocket, notice: ConsoleNotice): void => viewer.send(JSON.stringify(notice));

export class ConsoleHub {
  readonly #options: InstanceOptions;
  readonly #bridges = new Map<string, Promise<Bridge>>();

  constructor(options: InstanceOptions) {
    this.#options = options;
  }

  /** Show `viewer` instance `name`'s console: the log's tail, then the live output; what it types goes to the guest. */
  async join(name: string, viewer: WebSocket): Promise<void> {
    // A viewer's broken connection ends only that viewer (unheard, ws's error event would end the server).
    viewer.on('error', () => viewer.terminate());
    try {
      const instance = await Instance.open(name, this.#options);
      for await (const chunk of instance.logs({ source: 'console', lines: TAIL_LINES })) viewer.send(chunk);
      let bridge = await this.#bridge(name, instance);
      if (bridge.released) bridge = await this.#bridge(name, instance);
      if (viewer.readyState !== viewer.OPEN) return this.#leave(name, bridge, viewer);
      notify(viewer, { type: 'attached' });
      bridge.viewers.add(viewer);
      viewer.on('message', (data: Buffer) => bridge.socket.write(data));
      viewer.once('close', () => this.#leave(name, bridge, viewer));
    } catch (error) {
      const { body } = errorReply(error);
      notify(viewer, { type: 'error', ...body });
      viewer.close(1011, body.code);
    }
  }

  /** Close every console connection (the server is stopping). */
  close(): void {
    for (const pending of this.#bridges.values()) {
      pending.then(
        (bridge) => bridge.socket.destroy(),
        () => {},
      );
    }
    this.#bridges.clear();
  }

  #bridge(name: string, instance: Instance): Promise<Bridge> {
    const existing = this.#bridges.get(name);
    if (existing) return existing;
    const pending: Promise<Bridge> = instance.console().then((socket) => {
      const bridge: Bridge = { socket, viewers: new Set(), released: false, entry: pending };
      socket.on('data', (chunk) => {
        for (const viewer of bridge.viewers) viewer.send(chunk);
      });
      socket.on('error', () => {});
      socket.once('close', () => {
        if (this.#bridges.get(name) === pending) this.#bridges.delete(name);
        for (const viewer of bridge.viewers) {
          notify(viewer, { type: 'closed', message: `${name}'s console closed: the guest stopped` });
          viewer.close(1000, 'console closed');
        }
      });
      return bridge;
    });
    this.#bridges.set(name, pending);
    // A failed connection is not kept: the next viewer tries again.
    pending.catch(() => this.#bridges.get(name) === pending && this.#bridges.delete(name));
    return pending;
  }

  /** The last viewer gone, the socket is let go, so `qlaunch console` can attach. */
  #leave(name: string, bridge: Bridge, viewer: WebSocket): void {
    bridge.viewers.delete(viewer);
    if (bridge.viewers.size > 0 || bridge.released) return;
    bridge.released = true;
    if (this.#bridges.get(name) === bridge.entry) this.#bridges.delete(name);
    bridge.socket.end();
  }
}
