// Connecting to a unix socket that QEMU is about to create: retry until it listens, QEMU dies, or time runs out.

import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const connectOnce = (path: string): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

export interface ConnectRetryOptions {
  /** Epoch ms after which we give up. */
  deadline: number;
  /** Stop retrying once this reports false (the server process is gone). */
  alive: () => boolean;
}

/** Resolves with the socket, or undefined when the deadline passed or the server died first. */
export async function connectWithRetry(
  path: string,
  options: ConnectRetryOptions,
): Promise<Socket | undefined> {
  let pause = 2;
  while (options.alive() && Date.now() < options.deadline) {
    try {
      return await connectOnce(path);
    } catch (error) {
      if (!RETRYABLE.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    await sleep(pause);
    pause = Math.min(pause * 2, 25);
  }
  return undefined;
}
