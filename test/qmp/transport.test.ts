import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import type { QmpError } from '../../lib/qmp/errors.js';
import { LineTransport } from '../../lib/qmp/transport.js';

const dir = t.testdir();
let count = 0;

/** A connected pair of unix sockets: `near` for the transport, `far` for the test to play the peer. */
const socketPair = async (t: { teardown(fn: () => unknown): void }) => {
  const server = net.createServer();
  const path = join(dir, `t${count++}.sock`);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  const farPromise = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const near = net.createConnection(path);
  await new Promise((resolve) => near.once('connect', resolve));
  const far = await farPromise;
  t.teardown(() => {
    near.destroy();
    far.destroy();
    server.close();
  });
  return { near, far };
};

const collect = (transport: (h: ConstructorParameters<typeof LineTransport>[3]) => LineTransport) => {
  const messages: unknown[] = [];
  const ends: QmpError[] = [];
  const lt = transport({ onMessage: (m) => messages.push(m), onEnd: (r) => ends.push(r) });
  return { lt, messages, ends };
};

t.test('lines sent in one tick leave in one write; lines received are parsed in order', async (t) => {
  const { near, far } = await socketPair(t);
  const { lt, messages } = collect((h) => new LineTransport(near, 'peer', 1024, h));
  const chunks: string[] = [];
  far.on('data', (c) => chunks.push(String(c)));
  lt.send('{"a":1}\n');
  lt.send('{"b":2}\n');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.same(chunks, ['{"a":1}\n{"b":2}\n']);
  far.write('{"x":1}\r\n{"y"');
  far.write(':2}\r\n');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.same(messages, [{ x: 1 }, { y: 2 }]);
  t.equal(lt.open, true);
});

t.test('the peer hanging up ends the transport once, after its last lines', async (t) => {
  const { near, far } = await socketPair(t);
  const { lt, messages, ends } = collect((h) => new LineTransport(near, 'qemu', 1024, h));
  far.end('{"return":{}}\r\n{"event":"SHUTDOWN"}');
  await new Promise((resolve) => near.once('close', resolve));
  t.same(messages, [{ return: {} }, { event: 'SHUTDOWN' }], 'an unterminated last line still counts');
  t.equal(ends.length, 1);
  t.match(ends[0], { code: 'QMP_CLOSED', message: 'qemu closed the connection' });
  t.equal(lt.open, false);
  lt.send('{"late":1}\n');
  lt.close(true);
  t.equal(ends.length, 1, 'close() after the end changes nothing');
});

t.test('socket errors: resets read as the peer leaving, others as a failure', async (t) => {
  const a = await socketPair(t);
  const reset = collect((h) => new LineTransport(a.near, 'q', 1024, h));
  a.near.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await new Promise((resolve) => setImmediate(resolve));
  t.match(reset.ends, [{ code: 'QMP_CLOSED', message: 'q closed the connection (ECONNRESET)' }]);
  const b = await socketPair(t);
  const failed = collect((h) => new LineTransport(b.near, 'q', 1024, h));
  b.near.destroy(new Error('disk on fire'));
  await new Promise((resolve) => setImmediate(resolve));
  t.match(failed.ends, [{ code: 'QMP_CLOSED', message: 'the connection to q failed: disk on fire' }]);
});

t.test('a bad line ends the transport with QMP_PROTOCOL and skips the rest of the chunk', async (t) => {
  const { near, far } = await socketPair(t);
  const { messages, ends } = collect((h) => new LineTransport(near, 'q', 16, h));
  far.write('{"ok":1}\n{"toolong":"xxxxxxxxxxxxxxxx"}\n{"after":1}\n');
  await new Promise((resolve) => near.once('close', resolve));
  t.same(messages, [{ ok: 1 }]);
  t.match(ends, [{ code: 'QMP_PROTOCOL', message: /longer than 16 bytes/ }]);
});

t.test('close(true) flushes queued lines and ends the stream; close() never calls onEnd', async (t) => {
  const { near, far } = await socketPair(t);
  const { lt, ends } = collect((h) => new LineTransport(near, 'q', 1024, h));
  let received = '';
  far.on('data', (c) => {
    received += String(c);
  });
  const farEnded = new Promise((resolve) => far.once('end', resolve));
  lt.send('{"bye":1}\n');
  lt.close(true);
  await farEnded;
  t.equal(received, '{"bye":1}\n');
  t.same(ends, []);
  t.equal(near.destroyed, true);
});
