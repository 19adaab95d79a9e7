import net from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { QmpClient, type QmpClientOptions } from '../../lib/qmp/index.js';
import { type FakeServerOptions, type Json, replyTo, startFakeServer } from '../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let socketCount = 0;

const captureLogger = () => {
  const records: Json[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line) as Json);
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), records };
};

/** A running session against a fake server that leaves answering to the test (`conn.nextCommand()`). */
const session = async (
  t: { teardown(fn: () => unknown): void },
  server: FakeServerOptions = {},
  client: QmpClientOptions = {},
) => {
  const fake = await startFakeServer(join(dir, `e${socketCount++}.sock`), server);
  const qmp = new QmpClient(client);
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  const conn = await fake.nextConnection();
  return { qmp, conn, fake };
};

t.test('replies are routed by id, also out of order', async (t) => {
  const { qmp, conn } = await session(t, { negotiate: true });
  const a = qmp.execute('query-name');
  const b = qmp.execute('query-kvm');
  const c = qmp.execute('query-status');
  const sent = [await conn.nextCommand(), await conn.nextCommand(), await conn.nextCommand()];
  t.same(
    sent.map((m) => m['id']),
    ['__qmp#00001', '__qmp#00002', '__qmp#00003'],
  );
  conn.send(replyTo(sent[2]!, { running: false, status: 'prelaunch' }));
  conn.send(replyTo(sent[0]!, { name: 'vm' }));
  conn.send(replyTo(sent[1]!, { enabled: false, present: true }));
  t.same(await a, { name: 'vm' });
  t.same(await b, { enabled: false, present: true });
  t.same(await c, { running: false, status: 'prelaunch' });
});

t.test('arguments are sent as "arguments"; bad arguments are refused before sending', async (t) => {
  const { qmp, conn } = await session(t);
  const hmp = qmp.execute('human-monitor-command', { 'command-line': 'info version' });
  const sent = await conn.nextCommand();
  t.same(sent, {
    execute: 'human-monitor-command',
    arguments: { 'command-line': 'info version' },
    id: '__qmp#00001',
  });
  conn.send(replyTo(sent, '7.2.9\r\n'));
  t.equal(await hmp, '7.2.9\r\n');
  await t.rejects(qmp.execute('x-thing', { big: 1n }), {
    code: 'QMP_ARGUMENT',
    message: /cannot be encoded/,
  });
  await t.rejects(qmp.execute('x-thing', [1] as unknown as Json), {
    code: 'QMP_ARGUMENT',
    message: /must be an object, got an array/,
  });
  await t.rejects(qmp.execute('' as string), { code: 'QMP_ARGUMENT' });
  await t.rejects(qmp.execute('stop', undefined, { timeout: -5 }), {
    code: 'QMP_ARGUMENT',
    message: 'Expected the `timeout` option to be a positive number of milliseconds or Infinity, got -5',
  });
  await t.rejects(qmp.execute('stop', undefined, { signal: 'no' as unknown as AbortSignal }), {
    code: 'QMP_ARGUMENT',
  });
  const next = qmp.execute('stop');
  t.same((await conn.nextCommand())['id'], '__qmp#00002', 'refused commands consumed no id');
  conn.send({ return: {}, id: '__qmp#00002' });
  await next;
});

t.test('an error reply becomes QmpCommandError; a malformed reply fails only its command', async (t) => {
  const { qmp, conn } = await session(t);
  const failing = qmp.execute('no-such-command');
  conn.send({
    error: { class: 'CommandNotFound', desc: 'The command no-such-command has not been found' },
    id: (await conn.nextCommand())['id'],
  });
  const error = await failing.catch((e: unknown) => e);
  t.match(error, {
    name: 'QmpCommandError',
    code: 'QMP_EXECUTE',
    command: 'no-such-command',
    errorClass: 'CommandNotFound',
    desc: 'The command no-such-command has not been found',
    id: '__qmp#00001',
    message:
      'QMP command no-such-command failed: CommandNotFound: The command no-such-command has not been found',
    hint: /does not know/,
  });
  const generic = qmp.execute('stop');
  conn.send({ error: { class: 'GenericError', desc: 'nope' }, id: (await conn.nextCommand())['id'] });
  await t.rejects(generic, { code: 'QMP_EXECUTE', errorClass: 'GenericError', hint: undefined });
  const odd = qmp.execute('stop');
  conn.send({ error: 'broken', id: (await conn.nextCommand())['id'] });
  await t.rejects(odd, { code: 'QMP_PROTOCOL', message: /reply to stop is malformed/ });
  const odder = qmp.execute('cont');
  conn.send({ id: (await conn.nextCommand())['id'] });
  await t.rejects(odder, { code: 'QMP_PROTOCOL', message: /neither "return" nor "error"/ });
  t.equal(qmp.state, 'running', 'a malformed reply with a known id does not end the session');
});

t.test('a reply with an unknown id is logged and ignored; odd messages too', async (t) => {
  const { logger, records } = captureLogger();
  const { qmp, conn } = await session(t, {}, { logger });
  const pending = qmp.execute('stop');
  const sent = await conn.nextCommand();
  conn.send({ return: {}, id: 'someone-else' });
  conn.send({ return: {} });
  conn.send({ greeting: 'again' });
  conn.send({ event: 42 });
  conn.send(replyTo(sent));
  t.same(await pending, {});
  const warnings = records.filter((r) => r['level'] === 40).map((r) => [r['msg'], r['id']]);
  t.same(warnings, [
    ['dropping a reply with an unknown id', 'someone-else'],
    ['dropping a reply with an unknown id', undefined],
    ['ignoring a message that is neither an event nor a reply', undefined],
    ['ignoring a message that is neither an event nor a reply', undefined],
  ]);
  t.ok(
    records.some((r) => r['msg'] === 'sending' && r['line'] === '{"execute":"stop","id":"__qmp#00001"}'),
    'traffic is logged at trace',
  );
  t.ok(records.every((r) => r['qmp'] === qmp.label));
});

t.test('timeout: QMP_TIMEOUT, the late reply is dropped quietly, the session goes on', async (t) => {
  const { logger, records } = captureLogger();
  const { qmp, conn } = await session(t, {}, { logger, commandTimeout: 5000 });
  const started = Date.now();
  await t.rejects(qmp.execute('query-status', undefined, { timeout: 80 }), {
    name: 'QmpTimeoutError',
    code: 'QMP_TIMEOUT',
    message: `QMP command query-status: no answer from ${qmp.label} within 80 ms`,
  });
  t.ok(Date.now() - started >= 75);
  const late = await conn.nextCommand();
  conn.send(replyTo(late, { status: 'late' }));
  const next = qmp.execute('query-name');
  conn.send(replyTo(await conn.nextCommand(), { name: 'fresh' }));
  t.same(await next, { name: 'fresh' });
  t.ok(records.some((r) => r['msg'] === 'dropping a late reply' && r['id'] === late['id']));
  t.notOk(
    records.some((r) => r['level'] === 40),
    'no warning for the late reply',
  );
});

t.test('client-wide commandTimeout applies when execute() has none', async (t) => {
  const { qmp } = await session(t, {}, { commandTimeout: 50 });
  await t.rejects(qmp.execute('stop'), { code: 'QMP_TIMEOUT', message: /within 50 ms/ });
});

t.test('abort: a pre-aborted signal sends nothing; a mid-flight abort rejects with the reason', async (t) => {
  const { qmp, conn } = await session(t);
  const reason = new Error('user pressed ^C');
  await t.rejects(qmp.execute('stop', undefined, { signal: AbortSignal.abort(reason) }), {
    code: 'QMP_ABORTED',
    cause: reason,
  });
  t.equal(conn.received.length, 1, 'only qmp_capabilities was sent');
  const controller = new AbortController();
  const flying = qmp.execute('stop', undefined, { signal: controller.signal });
  const sent = await conn.nextCommand();
  controller.abort(reason);
  await t.rejects(flying, {
    name: 'QmpAbortedError',
    message: 'QMP command stop was aborted',
    hint: undefined,
  });
  conn.send(replyTo(sent));
  const after = qmp.execute('cont');
  conn.send(replyTo(await conn.nextCommand()));
  t.same(await after, {});
});

t.test(
  'an error without id is fatal: pending commands fail with QMP_CLOSED, closed gets QMP_PROTOCOL',
  async (t) => {
    const { qmp, conn } = await session(t);
    const a = qmp.execute('stop');
    const b = qmp.execute('cont');
    await conn.nextCommand();
    conn.send({ error: { class: 'GenericError', desc: 'JSON parse error, expecting value' } });
    await t.rejects(a, {
      code: 'QMP_CLOSED',
      message: /^the connection to .* closed while stop was pending \(.*sent an error without id/,
      cause: { code: 'QMP_PROTOCOL' },
    });
    await t.rejects(b, { code: 'QMP_CLOSED', message: /while cont was pending/ });
    t.match(await qmp.closed, { code: 'QMP_PROTOCOL', message: /JSON parse error, expecting value/ });
    t.equal(qmp.state, 'closed');
  },
);

t.test('an id-less malformed error is fatal too', async (t) => {
  const { qmp, conn } = await session(t);
  conn.send({ error: 'garbage' });
  t.match(await qmp.closed, { code: 'QMP_PROTOCOL', message: /without id.*lacks a string class/ });
});

t.test('bad JSON tears the session down; later lines in the same chunk are not processed', async (t) => {
  const { qmp, conn } = await session(t);
  const pending = qmp.execute('stop');
  const sent = await conn.nextCommand();
  conn.send(`{"return": {}, "id": "nope\r\n${JSON.stringify(replyTo(sent))}\r\n`);
  await t.rejects(pending, {
    code: 'QMP_CLOSED',
    cause: { code: 'QMP_PROTOCOL', message: /not valid JSON/ },
  });
  t.match(await qmp.closed, { code: 'QMP_PROTOCOL' });
});

t.test('a line over the cap is a protocol error that ends the session', async (t) => {
  const { qmp, conn } = await session(t, {}, { maxLineBytes: 1024 });
  const pending = qmp.execute('human-monitor-command', { 'command-line': 'info mtree' });
  const sent = await conn.nextCommand();
  conn.send(`${JSON.stringify(replyTo(sent, 'x'.repeat(600)))}\r\n`);
  t.equal((await pending).length, 600, 'a line under the cap is fine');
  const big = qmp.execute('human-monitor-command', { 'command-line': 'info mtree' });
  conn.send(JSON.stringify(replyTo(await conn.nextCommand(), 'y'.repeat(2000))));
  await t.rejects(big, {
    code: 'QMP_CLOSED',
    cause: { code: 'QMP_PROTOCOL', message: /longer than 1024 bytes/ },
  });
});

t.test('the peer closing while commands are pending fails each with one clear QMP_CLOSED', async (t) => {
  const { qmp, conn, fake } = await session(t);
  const a = qmp.execute('stop');
  const b = qmp.execute('query-status');
  await conn.nextCommand();
  await conn.nextCommand();
  conn.socket.end();
  const errors = await Promise.all([a.catch((e: Error) => e), b.catch((e: Error) => e)]);
  t.match(errors, [
    {
      name: 'QmpClosedError',
      code: 'QMP_CLOSED',
      message: `the connection to ${fake.path} closed while stop was pending (${fake.path} closed the connection)`,
    },
    { code: 'QMP_CLOSED', message: /while query-status was pending/ },
  ]);
  t.match(await qmp.closed, { code: 'QMP_CLOSED', message: `${fake.path} closed the connection` });
  await t.rejects(qmp.execute('stop'), {
    code: 'QMP_STATE',
    message: 'execute(stop) is not allowed while the QMP client is closed',
  });
});

t.test('a socket error ends the session and names the error', async (t) => {
  const fake = await startFakeServer(join(dir, `e${socketCount++}.sock`));
  t.teardown(() => fake.close());
  const socket = net.createConnection(fake.path);
  await new Promise((resolve) => socket.once('connect', resolve));
  const qmp = new QmpClient();
  await qmp.connect(socket, { label: 'handed-in socket' });
  const pending = qmp.execute('stop');
  socket.destroy(new Error('EPIPE-ish'));
  await t.rejects(pending, { code: 'QMP_CLOSED', message: /handed-in socket failed: EPIPE-ish/ });
  t.match(await qmp.closed, { code: 'QMP_CLOSED', cause: { message: 'EPIPE-ish' } });
});
