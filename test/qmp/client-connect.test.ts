import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { QmpClient } from '../../lib/qmp/index.js';
import { answerAll, greetingWith, replyTo, startFakeServer } from '../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let socketCount = 0;
const socketPath = (): string => join(dir, `c${socketCount++}.sock`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('connect reads the greeting, enables oob when offered, and starts ids at __qmp#00001', async (t) => {
  const server = await startFakeServer(socketPath(), { onCommand: answerAll });
  t.teardown(() => server.close());
  const qmp = new QmpClient();
  t.equal(qmp.state, 'idle');
  const connecting = qmp.connect(server.path);
  t.equal(qmp.state, 'connecting');
  const greeting = await connecting;
  t.same(greeting, greetingWith(['oob'])['QMP']);
  t.equal(qmp.greeting, greeting);
  t.equal(qmp.state, 'running');
  t.equal(qmp.oobEnabled, true);
  t.equal(qmp.label, server.path);
  const conn = server.connections[0]!;
  t.same(conn.received[0], { execute: 'qmp_capabilities', arguments: { enable: ['oob'] } });
  t.same(await qmp.execute('stop'), {});
  t.same(await qmp.execute('cont', undefined, { oob: true }), {});
  t.same(conn.received.slice(1), [
    { execute: 'stop', id: '__qmp#00001' },
    { 'exec-oob': 'cont', id: '__qmp#00002' },
  ]);
  await qmp.close();
  t.equal(qmp.state, 'closed');
});

t.test(
  'without the oob capability: no enable argument, and oob commands are refused before sending',
  async (t) => {
    const server = await startFakeServer(socketPath(), { greeting: greetingWith([]), onCommand: answerAll });
    t.teardown(() => server.close());
    const qmp = new QmpClient();
    t.teardown(() => qmp.destroy());
    await qmp.connect(server.path);
    t.equal(qmp.oobEnabled, false);
    const conn = server.connections[0]!;
    t.same(conn.received, [{ execute: 'qmp_capabilities' }]);
    await t.rejects(qmp.execute('stop', undefined, { oob: true }), {
      code: 'QMP_ARGUMENT',
      message: /out-of-band/,
    });
    t.same(await qmp.execute('stop'), {});
    t.same(
      conn.received.map((c) => c['id']),
      [undefined, '__qmp#00001'],
      'the refused command consumed no id and sent nothing',
    );
  },
);

t.test('a greeting split byte by byte still parses', async (t) => {
  const server = await startFakeServer(socketPath(), { greeting: false, onCommand: answerAll });
  t.teardown(() => server.close());
  const qmp = new QmpClient();
  t.teardown(() => qmp.destroy());
  const connecting = qmp.connect(server.path);
  const conn = await server.nextConnection();
  const bytes = `${JSON.stringify(greetingWith(['oob']))}\r\n`;
  for (const byte of bytes) {
    conn.send(byte);
    await sleep(0);
  }
  const greeting = await connecting;
  t.same(greeting.version, { qemu: { major: 7, minor: 2, micro: 9 }, package: 'fake-qmp' });
  t.same(greeting.capabilities, ['oob']);
});

t.test('greeting, negotiation reply, event and a stray reply merged in one write', async (t) => {
  const merged = [
    JSON.stringify(greetingWith([])),
    JSON.stringify({ event: 'DURING', timestamp: { seconds: 1, microseconds: 1 } }),
    JSON.stringify({ return: {} }),
    JSON.stringify({ event: 'EARLY', data: { n: 1 }, timestamp: { seconds: 1, microseconds: 2 } }),
    '',
  ].join('\r\n');
  const server = await startFakeServer(socketPath(), {
    greeting: merged,
    negotiate: false,
    onCommand: answerAll,
  });
  t.teardown(() => server.close());
  const qmp = new QmpClient();
  t.teardown(() => qmp.destroy());
  await qmp.connect(server.path);
  t.equal(qmp.state, 'running');
  t.equal(qmp.eventCursor(), 2, 'events around the negotiation reply are in history');
  const early = await qmp.waitFor('EARLY', { since: 0, timeout: 1000 });
  t.same(early, { event: 'EARLY', data: { n: 1 }, timestamp: { seconds: 1, microseconds: 2 } });
  t.same(
    qmp.recentEvents().map((e) => e.event),
    ['DURING', 'EARLY'],
  );
  t.same(await qmp.execute('query-status'), {});
});

t.test(
  'a first message that is not a greeting fails with QMP_GREETING and the client can retry',
  async (t) => {
    const bad = await startFakeServer(socketPath(), { greeting: { hello: 'world' } });
    const good = await startFakeServer(socketPath(), { onCommand: answerAll });
    t.teardown(() => Promise.all([bad.close(), good.close()]));
    const qmp = new QmpClient();
    t.teardown(() => qmp.destroy());
    await t.rejects(qmp.connect(bad.path), {
      code: 'QMP_GREETING',
      message: /not a QMP greeting/,
      hint: /-qmp/,
    });
    t.equal(qmp.state, 'idle');
    t.equal(qmp.greeting, undefined);
    await qmp.connect(good.path);
    t.equal(qmp.state, 'running');
  },
);

t.test('greeting problems: bad JSON, early close, silence', async (t) => {
  const badJson = await startFakeServer(socketPath(), { greeting: '{"QMP": \r\n' });
  const closing = await startFakeServer(socketPath(), { greeting: false });
  const silent = await startFakeServer(socketPath(), { greeting: false });
  t.teardown(() => Promise.all([badJson.close(), closing.close(), silent.close()]));
  const qmp = new QmpClient();
  t.teardown(() => qmp.destroy());
  await t.rejects(qmp.connect(badJson.path), { code: 'QMP_GREETING', cause: { code: 'QMP_PROTOCOL' } });
  const connecting = qmp.connect(closing.path);
  (await closing.nextConnection()).socket.end();
  await t.rejects(connecting, { code: 'QMP_GREETING', message: /closed the connection/ });
  const started = Date.now();
  const serverSide = silent
    .nextConnection()
    .then((c) => new Promise((resolve) => c.socket.once('close', resolve)));
  await t.rejects(qmp.connect(silent.path, { timeout: 150 }), {
    code: 'QMP_GREETING',
    message: /no QMP greeting within 150 ms/,
    hint: /one client at a time/,
  });
  t.ok(Date.now() - started >= 140, 'waited for the timeout');
  t.equal(qmp.state, 'idle');
  await serverSide;
  t.pass('the client hung up on the silent server');
});

t.test('negotiation problems: error reply, unexpected reply, early close, silence', async (t) => {
  const refusing = await startFakeServer(socketPath(), {
    negotiate: false,
    onCommand: (_c, conn) => conn.send({ error: { class: 'GenericError', desc: 'no way' } }),
  });
  const odd = await startFakeServer(socketPath(), {
    negotiate: false,
    onCommand: (_c, conn) => conn.send({ hi: 1 }),
  });
  const hangup = await startFakeServer(socketPath(), {
    negotiate: false,
    onCommand: (_c, conn) => conn.socket.end(),
  });
  const mute = await startFakeServer(socketPath(), { negotiate: false });
  t.teardown(() => Promise.all([refusing.close(), odd.close(), hangup.close(), mute.close()]));
  const qmp = new QmpClient();
  t.teardown(() => qmp.destroy());
  await t.rejects(qmp.connect(refusing.path), { code: 'QMP_NEGOTIATION', message: /GenericError: no way/ });
  await t.rejects(qmp.connect(odd.path), { code: 'QMP_NEGOTIATION', message: /unexpected reply \{"hi":1\}/ });
  await t.rejects(qmp.connect(hangup.path), { code: 'QMP_NEGOTIATION', cause: { code: 'QMP_CLOSED' } });
  await t.rejects(qmp.connect(mute.path, { timeout: 100 }), {
    code: 'QMP_NEGOTIATION',
    message: /no reply to qmp_capabilities within 100 ms/,
  });
  t.equal(qmp.state, 'idle');
  t.equal(qmp.oobEnabled, false, 'a failed negotiation forgets the offered capabilities');
});

t.test('socket failures fail fast with QMP_CONNECT naming the path and errno', async (t) => {
  const qmp = new QmpClient();
  const missing = join(dir, 'missing.sock');
  await t.rejects(qmp.connect(missing), {
    code: 'QMP_CONNECT',
    errno: 'ENOENT',
    path: missing,
    message: `cannot connect to QMP socket ${missing}: ENOENT`,
    hint: /does not exist/,
  });
  const notSocket = join(dir, 'plain-file');
  writeFileSync(notSocket, '');
  await t.rejects(qmp.connect(notSocket), {
    code: 'QMP_CONNECT',
    errno: 'ECONNREFUSED',
    hint: /nothing listens/,
  });
  const long = join(dir, 'x'.repeat(120));
  await t.rejects(qmp.connect(long), {
    code: 'QMP_CONNECT',
    errno: 'ENAMETOOLONG',
    message: /the limit is 107/,
    hint: /shorter/,
  });
  t.equal(qmp.state, 'idle');
});

t.test('connect accepts an already connected socket and names it by label', async (t) => {
  const server = await startFakeServer(socketPath(), {
    onCommand: (c, conn) => conn.send(replyTo(c, 'pong')),
  });
  t.teardown(() => server.close());
  const socket = net.createConnection(server.path);
  await new Promise((resolve) => socket.once('connect', resolve));
  const qmp = new QmpClient();
  t.teardown(() => qmp.destroy());
  await qmp.connect(socket, { label: 'vm1 monitor' });
  t.equal(qmp.label, 'vm1 monitor');
  t.equal(await qmp.execute('human-monitor-command', { 'command-line': 'info version' }), 'pong');
  server.connections[0]!.socket.end();
  const reason = await qmp.closed;
  t.match(reason, { code: 'QMP_CLOSED', message: 'vm1 monitor closed the connection' });
  t.ok(socket.destroyed, 'the stream is destroyed with the session');

  const unlabeled = new QmpClient();
  const other = net.createConnection(server.path);
  await unlabeled.connect(other);
  t.equal(unlabeled.label, 'QMP stream');
  unlabeled.destroy();
});

t.test('connect can be aborted in every phase; a pre-aborted signal connects nothing', async (t) => {
  const mute = await startFakeServer(socketPath(), { greeting: false });
  const stuck = await startFakeServer(socketPath(), { negotiate: false });
  t.teardown(() => Promise.all([mute.close(), stuck.close()]));
  const qmp = new QmpClient();
  await t.rejects(qmp.connect(mute.path, { signal: AbortSignal.abort(new Error('nope')) }), {
    code: 'QMP_ABORTED',
    cause: { message: 'nope' },
  });
  t.equal(mute.connections.length, 0);
  const controller = new AbortController();
  const greeting = qmp.connect(mute.path, { signal: controller.signal });
  await mute.nextConnection();
  controller.abort();
  await t.rejects(greeting, { code: 'QMP_ABORTED', message: `connecting to ${mute.path} was aborted` });
  const second = new AbortController();
  const negotiating = qmp.connect(stuck.path, { signal: second.signal });
  await (await stuck.nextConnection()).nextCommand();
  second.abort();
  await t.rejects(negotiating, { code: 'QMP_ABORTED' });
  t.equal(qmp.state, 'idle');
});

t.test('close() and destroy() during connect reject the connect with QMP_CLOSED', async (t) => {
  const mute = await startFakeServer(socketPath(), { greeting: false });
  t.teardown(() => mute.close());
  const a = new QmpClient();
  const connectingA = a.connect(mute.path);
  await mute.nextConnection();
  await a.close();
  await t.rejects(connectingA, { code: 'QMP_CLOSED', message: /closed while connecting/ });
  t.equal(a.state, 'closed');
  t.equal(await a.closed, undefined);

  const b = new QmpClient();
  const connectingB = b.connect(mute.path);
  const why = new Error('shutting down');
  b.destroy(why);
  await t.rejects(connectingB, { code: 'QMP_CLOSED', cause: why });
  t.equal(await b.closed, why);
  await t.rejects(b.connect(mute.path), { code: 'QMP_STATE', hint: /new QmpClient/ });
});

t.test('a stream target is owned: destroyed when connect fails, refused when already closed', async (t) => {
  const server = await startFakeServer(socketPath(), { greeting: false });
  t.teardown(() => server.close());
  const qmp = new QmpClient();
  const socket = net.createConnection(server.path);
  await new Promise((resolve) => socket.once('connect', resolve));
  await t.rejects(qmp.connect(socket, { signal: AbortSignal.abort() }), { code: 'QMP_ABORTED' });
  t.ok(socket.destroyed, 'a pre-aborted connect still destroys the stream it was given');
  await t.rejects(qmp.connect(socket, { label: 'old socket' }), {
    code: 'QMP_CONNECT',
    message: 'old socket is already closed',
    path: 'old socket',
  });
  t.equal(qmp.state, 'idle');
});
