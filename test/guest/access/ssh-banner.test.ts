import { createServer, type Socket } from 'node:net';
import t from 'tap';
import { sshBanner } from '../../../lib/guest/access/ssh-banner.js';

/** A local server that does `serve` with each connection; resolves with its port. */
async function server(t: { teardown: (fn: () => void) => void }, serve: (socket: Socket) => void) {
  const sockets: Socket[] = [];
  const srv = createServer((socket) => {
    sockets.push(socket);
    serve(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return (srv.address() as { port: number }).port;
}

t.test('the identification line, after any lines before it, split across writes', async (t) => {
  const port = await server(t, (s) => {
    s.write('a notice first\r\nSSH-2.0-Open');
    setTimeout(() => s.write('SSH_9.2p1 Debian\r\n'), 20);
  });
  t.equal(await sshBanner('127.0.0.1', port, 2000), 'SSH-2.0-OpenSSH_9.2p1 Debian');
});

t.test('a silent peer, one that hangs up, and one that is not sshd are each refused', async (t) => {
  const silent = await server(t, () => {});
  await t.rejects(
    sshBanner('127.0.0.1', silent, 200),
    /no SSH identification from 127\.0\.0\.1:\d+ within 200 ms/,
  );
  const hangs = await server(t, (s) => s.end('HTTP/1.1 400 Bad Request\r\n'));
  await t.rejects(sshBanner('127.0.0.1', hangs, 2000), /closed the connection before identifying itself/);
  const chatty = await server(t, (s) => s.write('x'.repeat(10_000)));
  await t.rejects(sshBanner('127.0.0.1', chatty, 2000), /is not an SSH server/);
  await t.rejects(sshBanner('127.0.0.1', 1, 2000), /ECONNREFUSED/);
});
