import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { GuestAgent, type GuestAgentConnectOptions } from '../../lib/qga/index.js';
import { shortTempDir } from '../fixtures/guests.js';
import { errorTo, type FakeAgentOptions, type Json, replyTo, startFakeAgent } from './fake-agent.js';

const dir = shortTempDir(t);
let count = 0;

/** A synced agent on a fake that leaves every request but the sync to the test (`conn.nextRequest()`). */
const session = async (
  t: { teardown(fn: () => unknown): void },
  server: FakeAgentOptions = {},
  client: GuestAgentConnectOptions = {},
) => {
  const fake = await startFakeAgent(join(dir, `e${count++}.sock`), server);
  const agent = await GuestAgent.connect(fake.path, { timeout: 5000, ...client });
  t.teardown(async () => {
    await agent.close();
    await fake.close();
  });
  const conn = await fake.nextConnection();
  return { agent, conn, fake };
};

const syncs = (received: Json[]) => received.filter((r) => r['execute'] === 'guest-sync-delimited').length;

t.test('a command goes out with arguments and an id; its reply comes back', async (t) => {
  const { agent, conn } = await session(t);
  const reply = agent.execute('guest-get-osinfo', { detail: true });
  const request = await conn.nextRequest();
  t.match(request, { execute: 'guest-get-osinfo', arguments: { detail: true }, id: String });
  conn.send(replyTo({ id: 'someone-else' }, 'not ours'));
  conn.send(replyTo(request, { id: 'debian' }));
  t.same(await reply, { id: 'debian' });
});

t.test('a reply split into single bytes is still one reply', async (t) => {
  const { agent, conn } = await session(t);
  const reply = agent.execute('guest-get-host-name');
  const line = Buffer.from(`${JSON.stringify(replyTo(await conn.nextRequest(), { 'host-name': 'vm' }))}\n`);
  for (const byte of line) {
    conn.send(Buffer.of(byte));
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.same(await reply, { 'host-name': 'vm' });
});

t.test('a reply without id is taken (agents that do not echo ids)', async (t) => {
  const { agent, conn } = await session(t);
  const reply = agent.execute('guest-get-time');
  await conn.nextRequest();
  conn.send({ return: 1700000000 });
  t.equal(await reply, 1700000000);
});

t.test('error replies are QGA_EXECUTE with class and desc', async (t) => {
  const { agent, conn } = await session(t);
  const failing = agent.execute('guest-file-open', { path: '/nope' });
  conn.send(errorTo(await conn.nextRequest(), 'GenericError', 'No such file or directory'));
  await t.rejects(failing, {
    name: 'QgaCommandError',
    code: 'QGA_EXECUTE',
    command: 'guest-file-open',
    errorClass: 'GenericError',
    desc: 'No such file or directory',
    message: 'guest agent command guest-file-open failed: GenericError: No such file or directory',
  });
  const unknown = agent.execute('guest-nope');
  conn.send(
    errorTo(await conn.nextRequest(), 'CommandNotFound', 'The command guest-nope has not been found'),
  );
  await t.rejects(unknown, { code: 'QGA_EXECUTE', hint: /does not know the command/ });
  const malformed = agent.execute('guest-get-time');
  conn.send({ id: (await conn.nextRequest())['id'], error: 'flat' });
  await t.rejects(malformed, { code: 'QGA_PROTOCOL', message: /reply to guest-get-time is malformed/ });
});

t.test('bad JSON while waiting: QGA_PROTOCOL, and the next command syncs first', async (t) => {
  const { agent, conn } = await session(t);
  const broken = agent.execute('guest-get-time');
  await conn.nextRequest();
  conn.send('{"return": {}, "id": \n');
  await t.rejects(broken, {
    code: 'QGA_PROTOCOL',
    message: /not valid JSON.*\(while waiting for the reply to guest-get-time\)/,
  });
  const before = syncs(conn.received);
  const next = agent.execute('guest-get-osinfo');
  t.equal((await conn.nextRequest())['execute'], 'guest-get-osinfo');
  t.equal(syncs(conn.received), before + 1, 'resynced before guest-get-osinfo');
  conn.send(replyTo(conn.received.at(-1)!, { id: 'debian' }));
  t.same(await next, { id: 'debian' });
});

t.test('a timed-out command: QGA_TIMEOUT; its late reply never passes for the next one', async (t) => {
  const { agent, conn } = await session(t);
  const slow = agent.execute('guest-fsfreeze-status', undefined, { timeout: 50 });
  const request = await conn.nextRequest();
  await t.rejects(slow, {
    code: 'QGA_TIMEOUT',
    message: /guest agent command guest-fsfreeze-status: no answer from the guest agent at .* within 50 ms/,
  });
  conn.send({ return: 'thawed' }); // id-less and late: only the resync can tell it apart
  conn.send(replyTo(request, 'thawed'));
  const next = agent.execute('guest-get-time');
  const nextRequest = await conn.nextRequest();
  t.equal(nextRequest['execute'], 'guest-get-time');
  conn.send(replyTo(nextRequest, 42));
  t.equal(await next, 42);
});

t.test('commands run one at a time, in order', async (t) => {
  const { agent, conn } = await session(t);
  const first = agent.execute('guest-get-time');
  const second = agent.execute('guest-get-host-name');
  const a = await conn.nextRequest();
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(conn.received.at(-1), a, 'the second waits for the first reply');
  conn.send(replyTo(a, 1));
  const b = await conn.nextRequest();
  t.equal(b['execute'], 'guest-get-host-name');
  conn.send(replyTo(b, 2));
  t.same([await first, await second], [1, 2]);
});

t.test('a queued command whose time runs out is never sent', async (t) => {
  const { agent, conn } = await session(t);
  const first = agent.execute('guest-get-time');
  const queued = t.rejects(agent.execute('guest-get-users', undefined, { timeout: 20 }), {
    code: 'QGA_TIMEOUT',
  });
  const aborted = t.rejects(
    agent.execute('guest-get-users', undefined, { signal: AbortSignal.abort('no') }),
    {
      code: 'QGA_ABORTED',
      cause: 'no',
    },
  );
  const a = await conn.nextRequest();
  await queued;
  await aborted;
  conn.send(replyTo(a, 1));
  t.equal(await first, 1);
  await agent.ping().catch(() => {});
  const names = conn.received.map((r) => r['execute']);
  t.notOk(names.includes('guest-get-users'));
});

t.test('a message between requests: ignored, and the next command resyncs', async (t) => {
  const { agent, conn } = await session(t);
  conn.send({ return: 'stray' });
  await new Promise((resolve) => setTimeout(resolve, 20));
  conn.send('{oops\n');
  await new Promise((resolve) => setTimeout(resolve, 20));
  const before = syncs(conn.received);
  const next = agent.execute('guest-get-time');
  const request = await conn.nextRequest();
  t.equal(syncs(conn.received), before + 1);
  conn.send(replyTo(request, 7));
  t.equal(await next, 7);
});

t.test('the agent hangs up mid-command: QGA_CLOSED, then the session is over', async (t) => {
  const { agent, conn } = await session(t);
  const pending = agent.execute('guest-get-time');
  await conn.nextRequest();
  conn.socket.destroy();
  await t.rejects(pending, { code: 'QGA_CLOSED', message: /while guest-get-time was pending/ });
  t.match(await agent.closed, { code: 'QGA_CLOSED' });
  await t.rejects(agent.ping(), { code: 'QGA_CLOSED', message: /session on .* is closed/ });
});

t.test('the agent ends the stream with a last reply: it is delivered first', async (t) => {
  const { agent, conn } = await session(t);
  const pending = agent.execute('guest-get-time');
  const request = await conn.nextRequest();
  conn.socket.end(JSON.stringify(replyTo(request, 5)));
  t.equal(await pending, 5);
  t.match(await agent.closed, { code: 'QGA_CLOSED' });
});

t.test('close(): idempotent; what waits fails with QGA_CLOSED; closed resolves undefined', async (t) => {
  const { agent, conn } = await session(t);
  const pending = agent.execute('guest-get-time');
  await conn.nextRequest();
  await agent.close();
  await agent.close();
  await t.rejects(pending, { code: 'QGA_CLOSED', message: /was closed while guest-get-time was pending/ });
  t.equal(await agent.closed, undefined);
  await new Promise((resolve) =>
    conn.socket.destroyed ? resolve(null) : conn.socket.once('close', resolve),
  );
  t.pass('the server sees the connection go');
});

t.test('await using closes the session', async (t) => {
  const fake = await startFakeAgent(join(dir, `u${count++}.sock`));
  t.teardown(() => fake.close());
  let closed: Promise<Error | undefined>;
  {
    await using agent = await GuestAgent.connect(fake.path);
    closed = agent.closed;
  }
  t.equal(await closed, undefined);
});

t.test('ping and info', async (t) => {
  const { agent, conn } = await session(t, {
    handler: (request, c) => {
      if (request['execute'] === 'guest-info' && c.received.length > 3) {
        c.send(replyTo(request, { version: 1 }));
        return true;
      }
      return false;
    },
  });
  await agent.ping();
  const info = await agent.info();
  t.equal(info.version, '7.2.0-fake');
  t.equal(info.supported_commands[0]?.name, 'guest-ping');
  await t.rejects(agent.info(), { code: 'QGA_PROTOCOL', message: /guest-info reply is malformed/ });
  t.equal(conn.received.length, 4);
});

t.test('bad per-command options are QGA_ARGUMENT', async (t) => {
  const { agent } = await session(t);
  await t.rejects(agent.execute('guest-ping', undefined, { timeout: 0 }), { code: 'QGA_ARGUMENT' });
  await t.rejects(agent.execute('guest-ping', undefined, { signal: {} as AbortSignal }), {
    code: 'QGA_ARGUMENT',
  });
  await t.rejects(agent.execute(''), { code: 'QGA_ARGUMENT' });
  await t.rejects(agent.shutdown({ timeout: -5 }), { code: 'QGA_ARGUMENT' });
  await t.rejects(agent.shutdown({ mode: [] as unknown as 'halt', timeout: 1000, signal: 'x' as never }), {
    code: 'QGA_ARGUMENT',
  });
});

t.test('shutdown: no reply means success, proven by the sync after it', async (t) => {
  const { agent, conn } = await session(t, {
    handler: (request) => request['execute'] === 'guest-shutdown', // the agent answers nothing on success
  });
  await agent.shutdown({ mode: 'halt' });
  const names = conn.received.map((r) => r['execute']);
  t.same(names.slice(-2), ['guest-shutdown', 'guest-sync-delimited']);
  t.same(conn.received.at(-2)!['arguments'], { mode: 'halt' });
  await agent.ping();
});

t.test('shutdown: an error reply before the sync fails it with QGA_EXECUTE', async (t) => {
  const { agent } = await session(t, {
    handler: (request, c) => {
      if (request['execute'] !== 'guest-shutdown') return false;
      c.send({ error: { class: 'GenericError', desc: 'stray from 0xFF' } }); // id-less: not ours
      c.send(errorTo(request, 'GenericError', 'child process has failed to shutdown'));
      return true;
    },
  });
  await t.rejects(agent.shutdown(), {
    code: 'QGA_EXECUTE',
    command: 'guest-shutdown',
    desc: 'child process has failed to shutdown',
  });
});

t.test('shutdown: the guest hanging up counts as done', async (t) => {
  const { agent } = await session(t, {
    handler: (request, c) => {
      if (request['execute'] === 'guest-shutdown') c.socket.destroy();
      return request['execute'] === 'guest-shutdown';
    },
  });
  await agent.shutdown();
  t.match(await agent.closed, { code: 'QGA_CLOSED' });
});

t.test('a logger sees lifecycle and lines', async (t) => {
  const records: Json[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) records.push(JSON.parse(line) as Json);
      done();
    },
  });
  const { agent, conn } = await session(t, {}, { logger: pino({ level: 'trace' }, sink) });
  conn.send('{junk\n');
  await new Promise((resolve) => setTimeout(resolve, 30));
  await agent.ping();
  await agent.close();
  const messages = records.map((r) => r['msg']);
  for (const expected of ['sync', 'synced', 'sending', 'received', 'received sentinel', 'session closed']) {
    t.ok(messages.includes(expected), expected);
  }
  t.ok(records.some((r) => r['msg'] === 'garbage from the agent between requests' && r['level'] === 40));
  t.ok(records.every((r) => typeof r['qga'] === 'string'));
});
