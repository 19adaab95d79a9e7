// Whether sshd answers at host:port: it sends its identification line (`SSH-2.0-…`, RFC 4253 §4.2) first, so one
// read proves the forward reaches a running sshd without a key exchange.

import { connect } from 'node:net';

/** Resolves with sshd's identification line at `host:port`; rejects when none comes within `timeout` ms. */
export function sshBanner(host: string, port: number, timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let text = '';
    const done = (error: Error | undefined, line?: string) => {
      socket.destroy();
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(line ?? '');
    };
    const timer = setTimeout(
      () => done(new Error(`no SSH identification from ${host}:${port} within ${timeout} ms`)),
      timeout,
    );
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      // Lines before the identification are allowed (§4.2); a peer that sends no line soon is not sshd.
      // Whole lines only: the identification may come in pieces.
      const line = text
        .split('\n')
        .slice(0, -1)
        .find((l) => l.startsWith('SSH-'));
      if (line !== undefined) done(undefined, line.trimEnd());
      else if (text.length > 8192) done(new Error(`${host}:${port} is not an SSH server`));
    });
    socket.on('error', (error) => done(error));
    socket.on('end', () =>
      done(new Error(`${host}:${port} closed the connection before identifying itself`)),
    );
  });
}
