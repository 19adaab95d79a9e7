// Locks held by a socket bound in Linux's abstract namespace: the kernel releases one the moment its holder exits,
// however it exits, so a killed command never leaves a stale lock behind.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';

/** The abstract socket name of the lock on `scope` (pure): a digest of it and a secret key others cannot read. */
export const socketLockName = (scope: string, key: string): string =>
  `\0qlaunch-lock/${createHash('sha256').update(`${scope}\0${key}`).digest('hex').slice(0, 32)}`;

/** Bind `address`: the server when this process now holds it, undefined when another does. */
export function bindSocketLock(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    });
    server.listen({ path: address }, () => {
      // The lock must not keep a process alive that has nothing else left to do.
      server.unref();
      resolve(server);
    });
  });
}

/** Let go of a lock `bindSocketLock` took. */
export const releaseSocketLock = (server: Server): Promise<void> =>
  new Promise<void>((resolve) => server.close(() => resolve()));
