// Opening the QMP transport: a unix socket path (failing fast with the errno) or a stream the caller connected.

import net from 'node:net';
import { Duplex } from 'node:stream';
import { QmpArgumentError, QmpConnectError } from './errors.js';

/** A unix socket path, or an already connected `net.Socket` (e.g. one end of a socketpair) or other Duplex. */
export type QmpTarget = string | Duplex;

/** Linux `sun_path` holds 108 bytes including the NUL; libuv silently truncates longer paths. */
export const MAX_UNIX_PATH_BYTES = 107;

/** Throws QMP_ARGUMENT unless the target is a non-empty path or a Duplex stream. */
export const checkTarget = (target: unknown): void => {
  if (typeof target === 'string' ? target === '' : !(target instanceof Duplex)) {
    throw new QmpArgumentError(
      'Expected the QMP target to be a unix socket path or a connected Duplex stream',
      {
        hint: `got ${typeof target === 'string' ? 'an empty string' : typeof target}`,
      },
    );
  }
};

const connectFailure = (
  path: string,
  errno: string | undefined,
  cause: unknown,
  detail = '',
): QmpConnectError => {
  const hints: Record<string, string> = {
    ENOENT: 'the socket does not exist (yet): is QEMU running with -qmp unix:PATH,server=on?',
    ECONNREFUSED: 'nothing listens on the socket: QEMU has exited or another client holds the monitor',
    EACCES: 'the socket belongs to another user; check its permissions',
    ENAMETOOLONG: 'use a shorter runtime directory, or pass an already connected socket',
  };
  return new QmpConnectError(
    path,
    errno,
    `cannot connect to QMP socket ${path}: ${errno ?? 'error'}${detail}`,
    {
      hint: (errno && hints[errno]) ?? undefined,
      cause,
    },
  );
};

/** Starts connecting; the promise rejects with QMP_CONNECT naming the path and errno. Destroy the socket to give up. */
export const openUnixSocket = (path: string): { socket: net.Socket; connected: Promise<void> } => {
  if (Buffer.byteLength(path) > MAX_UNIX_PATH_BYTES) {
    const detail = ` (${Buffer.byteLength(path)} bytes, the limit is ${MAX_UNIX_PATH_BYTES})`;
    return {
      socket: new net.Socket(),
      connected: Promise.reject(connectFailure(path, 'ENAMETOOLONG', undefined, detail)),
    };
  }
  const socket = net.createConnection({ path });
  const connected = new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(connectFailure(path, error.code, error));
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve();
    });
  });
  return { socket, connected };
};
