import { join } from 'node:path';
import t from 'tap';
import { QmpClient, QmpClosedError, QmpError } from '../../lib/qmp/index.js';
import { answerAll, replyTo, startFakeServer } from '../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let socketCount = 0;

const session = async (t: { teardown(fn: () => unknown): void }) => {
  const fake = await startFakeServer(join(dir, `l${socketCount++}.sock`));
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  return { qmp, conn: await fake.nextConnection(), fake };
};

t.test('calls in the wrong state fail with QMP_STATE and a hint', async (t) => {
  const fake = await startFakeServer(join(dir, `l${socketCount++}.sock`), { onCommand: answerAll });
  t.teardown(() => fake.close());
  const qmp = new QmpClient();
  await t.rejects(qmp.execute('stop'), {
    name: 'QmpStateError',
    code: 'QMP_STATE',
    message: 'execute(stop) is not allowed while the QMP client is idle',
    hint: 'call connect() first',
  });
  const connecting = qmp.connect(fake.path);
  await t.rejects(qmp.execute('stop'), { code: 'QMP_STATE', hint: 'await connect() first' });
  await t.rejects(qmp.connect(fake.path), {
    code: 'QMP_STATE',
    message: /connect\(\) is not allowed .* connecting/,
  });
  await connecting;
  await t.rejects(qmp.connect(fake.path), { code: 'QMP_STATE', hint: /already connected/ });
  const closing = qmp.close();
  t.equal(qmp.state, 'disconnecting');
  await t.rejects(qmp.execute('stop'), { code: 'QMP_STATE', hint: 'close() is in progress' });
  await closing;
  await t.rejects(qmp.execute('stop'), { code: 'QMP_STATE', hint: /create a new QmpClient/ });
  const error = await qmp.execute('stop').catch((e: unknown) => e);
  t.ok(error instanceof QmpError, 'every QMP error is a QmpError');
});

t.test('close() drains pending commands, then ends the socket; idempotent, never rejects', async (t) => {
  const { qmp, conn } = await session(t);
  const pending = qmp.execute('query-status');
  const sent = await conn.nextCommand();
  const serverSawEnd = new Promise((resolve) => conn.socket.once('end', resolve));
  const first = qmp.close();
  const second = qmp.close();
  t.equal(qmp.state, 'disconnecting');
  let closedEarly = false;
  void first.then(() => {
    closedEarly = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.notOk(closedEarly, 'close() waits for the pending command');
  conn.send(replyTo(sent, { running: true, status: 'running' }));
  t.same(await pending, { running: true, status: 'running' }, 'the drained command got its reply');
  await first;
  await second;
  await serverSawEnd;
  t.equal(qmp.state, 'closed');
  t.equal(await qmp.closed, undefined, 'a deliberate close has no error');
  await qmp.close();
  qmp.destroy(new Error('ignored'));
  t.equal(await qmp.closed, undefined, 'destroy() after close() changes nothing');
});

t.test('the peer closing during a drain fails the pending command and ends close()', async (t) => {
  const { qmp, conn } = await session(t);
  const pending = qmp.execute('stop');
  await conn.nextCommand();
  const closing = qmp.close();
  conn.socket.end();
  await t.rejects(pending, { code: 'QMP_CLOSED' });
  await closing;
  t.equal(qmp.state, 'closed');
  t.match(await qmp.closed, { code: 'QMP_CLOSED' });
});

t.test('destroy(err) fails pending commands at once; closed resolves with err', async (t) => {
  const { qmp, conn, fake } = await session(t);
  const a = qmp.execute('stop');
  await conn.nextCommand();
  const why = new Error('VM process exited');
  qmp.destroy(why);
  const error = await a.catch((e: unknown) => e);
  t.ok(error instanceof QmpClosedError);
  t.match(error, {
    code: 'QMP_CLOSED',
    message: `the connection to ${fake.path} closed while stop was pending (the client was destroyed: VM process exited)`,
    cause: why,
  });
  t.equal(await qmp.closed, why);
  qmp.destroy();
  await qmp.close();
  t.equal(qmp.state, 'closed');
});

t.test('destroy() without an error, and close()/destroy() on a client never connected', async (t) => {
  const { qmp, conn } = await session(t);
  const a = qmp.execute('stop');
  await conn.nextCommand();
  qmp.destroy();
  await t.rejects(a, { code: 'QMP_CLOSED', message: /\(the client was destroyed\)$/ });
  t.equal(await qmp.closed, undefined);

  const fresh = new QmpClient();
  await fresh.close();
  t.equal(fresh.state, 'closed');
  t.equal(await fresh.closed, undefined);
  const other = new QmpClient();
  const why = new Error('gave up');
  other.destroy(why);
  t.equal(await other.closed, why);
});

t.test('bad client options fail at construction with QMP_ARGUMENT naming the option', async (t) => {
  t.throws(() => new QmpClient({ connectTimeout: 0 }), { code: 'QMP_ARGUMENT', message: /`connectTimeout`/ });
  t.throws(() => new QmpClient({ commandTimeout: Number.NaN }), {
    code: 'QMP_ARGUMENT',
    message: /`commandTimeout`/,
  });
  t.throws(() => new QmpClient({ maxLineBytes: 1.5 }), { code: 'QMP_ARGUMENT', message: /`maxLineBytes`/ });
  t.throws(() => new QmpClient({ eventHistory: -1 }), { code: 'QMP_ARGUMENT', message: /`eventHistory`/ });
  const qmp = new QmpClient({ commandTimeout: Number.POSITIVE_INFINITY });
  await t.rejects(qmp.connect(42 as unknown as string), { code: 'QMP_ARGUMENT', hint: 'got number' });
  await t.rejects(qmp.connect(''), { code: 'QMP_ARGUMENT', hint: 'got an empty string' });
  await t.rejects(qmp.connect('/x', { timeout: -1 }), { code: 'QMP_ARGUMENT' });
  t.equal(qmp.state, 'idle');
});
