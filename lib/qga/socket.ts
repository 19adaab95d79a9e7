// Opening the agent's unix socket: QMP's opener (fail fast, errno named), with errors and hints for the agent.

import type net from 'node:net';
import type { QmpConnectError } from '../qmp/errors.js';
import { MAX_UNIX_PATH_BYTES, openUnixSocket } from '../qmp/socket.js';
import { QgaConnectError } from './errors.js';

const HINTS: Record<string, string> = {
  ENOENT:
    'the socket does not exist (yet): is QEMU running with -chardev socket,id=qga0,path=PATH,server=on and a virtserialport named org.qemu.guest_agent.0?',
  ECONNREFUSED: 'nothing listens on the socket: QEMU has exited',
  EACCES: 'the socket belongs to another user; check its permissions',
  ENAMETOOLONG: 'use a shorter runtime directory (unix socket paths hold at most 107 bytes)',
};

/** Errnos that mean "QEMU is not listening yet", which a caller waiting for a booting VM retries. */
export const RETRYABLE_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

const toAgentError = (path: string, error: unknown): QgaConnectError => {
  const { errno } = error as QmpConnectError; // openUnixSocket rejects with nothing else
  const bytes = Buffer.byteLength(path);
  const detail = errno === 'ENAMETOOLONG' ? ` (${bytes} bytes, the limit is ${MAX_UNIX_PATH_BYTES})` : '';
  return new QgaConnectError(
    path,
    errno,
    `cannot connect to guest agent socket ${path}: ${errno ?? 'error'}${detail}`,
    {
      hint: (errno && HINTS[errno]) ?? undefined,
      cause: error,
    },
  );
};

/** Starts connecting; the promise rejects with QGA_CONNECT naming the path and errno. Destroy the socket to give up. */
export const openAgentSocket = (path: string): { socket: net.Socket; connected: Promise<void> } => {
  const { socket, connected } = openUnixSocket(path);
  return {
    socket,
    connected: connected.catch((error: unknown) => {
      throw toAgentError(path, error);
    }),
  };
};
