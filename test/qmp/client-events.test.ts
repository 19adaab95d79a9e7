import { join } from 'node:path';
import t from 'tap';
import { QmpClient, type QmpClientOptions, type QmpEvent } from '../../lib/qmp/index.js';
import { type FakeConnection, type Json, replyTo, startFakeServer } from '../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let socketCount = 0;

const session = async (t: { teardown(fn: () => unknown): void }, client: QmpClientOptions = {}) => {
  const fake = await startFakeServer(join(dir, `v${socketCount++}.sock`));
  const qmp = new QmpClient(client);
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  return { qmp, conn: await fake.nextConnection() };
};

const event = (name: string, data?: Json, seconds = 100): Json => ({
  event: name,
  ...(data === undefined ? {} : { data }),
  timestamp: { seconds, microseconds: 5 },
});

/** Runs one command, answering it with `lines` written before the reply in the same chunk. */
const run = async (
  qmp: QmpClient,
  conn: FakeConnection,
  name: string,
  before: Json[] = [],
  after: Json[] = [],
) => {
  const result = qmp.execute(name);
  const sent = await conn.nextCommand();
  conn.send([...before, replyTo(sent), ...after].map((m) => `${JSON.stringify(m)}\r\n`).join(''));
  return result;
};

t.test(
  'events between commands reach an existing iterator, in order, each listener its own copy',
  async (t) => {
    const { qmp, conn } = await session(t);
    const all = qmp.events();
    const stops = qmp.events({ names: 'STOP' });
    const filtered = qmp.events({ names: ['RESET', 'STOP'], filter: (e) => e.data['guest'] === true });
    await run(qmp, conn, 'stop', [event('STOP')]);
    conn.send(event('RESET', { guest: false, reason: 'host-qmp-system-reset' }));
    conn.send(event('RESET', { guest: true, reason: 'guest-reset' }));
    await run(qmp, conn, 'cont', [], [event('RESUME')]);
    await run(qmp, conn, 'query-status');
    t.equal(all.queued, 4, 'nothing read yet, nothing lost');
    const names: string[] = [];
    for await (const e of all) {
      names.push(e.event);
      if (names.length === 4) break;
    }
    t.same(names, ['STOP', 'RESET', 'RESET', 'RESUME']);
    t.equal(all.ended, true, 'break closed the listener');
    t.same(await stops.next(), {
      done: false,
      value: { event: 'STOP', data: {}, timestamp: { seconds: 100, microseconds: 5 } },
    });
    t.match(await filtered.next(), { value: { event: 'RESET', data: { reason: 'guest-reset' } } });
    t.equal(filtered.queued, 0);
    conn.send(event('STOP'));
    const stop = await stops.next();
    t.match(stop, { done: false, value: { event: 'STOP' } }, 'a waiting next() is handed the event');
    t.same(await all.next(), { done: true, value: undefined }, 'a closed listener stays done');
  },
);

t.test('iterators end when the session ends, after delivering what they queued', async (t) => {
  const { qmp, conn } = await session(t);
  const listener = qmp.events();
  const waiting = qmp.events({ names: 'NEVER' });
  const pendingNext = waiting.next();
  conn.send(event('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' }));
  conn.socket.end();
  await qmp.closed;
  const seen: QmpEvent[] = [];
  for await (const e of listener) seen.push(e);
  t.same(
    seen.map((e) => e.event),
    ['SHUTDOWN'],
  );
  t.same(await pendingNext, { done: true, value: undefined });
  const late = qmp.events({ since: 0 });
  t.same((await late.next()).value?.event, 'SHUTDOWN', 'a listener made after the end still sees history');
  t.same(await late.next(), { done: true, value: undefined });
});

t.test('a throwing filter fails its own listener only', async (t) => {
  const { qmp, conn } = await session(t);
  const bad = qmp.events({
    filter: () => {
      throw new Error('filter bug');
    },
  });
  const good = qmp.events();
  conn.send(event('STOP'));
  await t.rejects(bad.next(), { message: 'filter bug' });
  t.same(await bad.next(), { done: true, value: undefined });
  t.match(await good.next(), { value: { event: 'STOP' } });
  const waiting = qmp.events({
    filter: () => {
      throw new Error('later bug');
    },
  });
  const next = waiting.next();
  conn.send(event('RESUME'));
  await t.rejects(next, { message: 'later bug' });
});

t.test(
  'cursor + waitFor({ since }) is race-free when the event comes in the same chunk as the reply',
  async (t) => {
    const { qmp, conn } = await session(t);
    const cursor = qmp.eventCursor();
    t.equal(cursor, 0);
    await run(
      qmp,
      conn,
      'system_powerdown',
      [],
      [event('POWERDOWN'), event('SHUTDOWN', { guest: true, reason: 'guest-shutdown' })],
    );
    t.equal(qmp.eventCursor(), 2);
    const shutdown = await qmp.waitFor('SHUTDOWN', { since: cursor, timeout: 1000 });
    t.same(shutdown.data, { guest: true, reason: 'guest-shutdown' });
    // Without `since`, the same wait misses the event that already came: the race the cursor avoids.
    await t.rejects(qmp.waitFor('SHUTDOWN', { timeout: 60 }), {
      code: 'QMP_TIMEOUT',
      message: /waiting for event SHUTDOWN/,
    });
    const byFilter = await qmp.waitFor('SHUTDOWN', {
      since: cursor,
      filter: (e) => e.data.reason === 'guest-shutdown',
    });
    t.equal(byFilter, shutdown);
    await t.rejects(qmp.waitFor('SHUTDOWN', { since: cursor, filter: () => false, timeout: 30 }), {
      code: 'QMP_TIMEOUT',
    });
  },
);

t.test('waitFor resolves with a later event, and fails on abort, bad options and session end', async (t) => {
  const { qmp, conn } = await session(t, { eventHistory: 2 });
  const resumed = qmp.waitFor('RESUME');
  conn.send(event('STOP'));
  conn.send(event('RESUME', {}, 7));
  t.same((await resumed).timestamp, { seconds: 7, microseconds: 5 });
  conn.send(event('A'));
  conn.send(event('B'));
  await qmp.waitFor('B');
  t.same(
    qmp.recentEvents().map((e) => e.event),
    ['A', 'B'],
    'history keeps only the last eventHistory events',
  );
  await t.rejects(
    qmp.waitFor('STOP', { since: 0, timeout: 30 }),
    { code: 'QMP_TIMEOUT' },
    'STOP fell out of history',
  );
  const controller = new AbortController();
  const aborted = qmp.waitFor('X', { signal: controller.signal });
  controller.abort();
  await t.rejects(aborted, { code: 'QMP_ABORTED', message: 'waiting for event X was aborted' });
  await t.rejects(qmp.waitFor('X', { signal: AbortSignal.abort() }), { code: 'QMP_ABORTED' });
  await t.rejects(qmp.waitFor('X', { since: -1 }), { code: 'QMP_ARGUMENT', message: /since/ });
  await t.rejects(qmp.waitFor('X', { timeout: 0 }), { code: 'QMP_ARGUMENT' });
  const filterBug = qmp.waitFor('Y', {
    filter: () => {
      throw new Error('oops');
    },
  });
  conn.send(event('Y'));
  await t.rejects(filterBug, { message: 'oops' });
  const never = qmp.waitFor('SHUTDOWN');
  conn.socket.end();
  await t.rejects(never, { code: 'QMP_CLOSED', message: /closed while waiting for event SHUTDOWN/ });
  await t.rejects(qmp.waitFor('SHUTDOWN'), { code: 'QMP_CLOSED' }, 'waiting after the end fails at once');
});

t.test('events and waitFor registered before connect() catch the first events', async (t) => {
  const fake = await startFakeServer(join(dir, `v${socketCount++}.sock`));
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  const listener = qmp.events();
  const first = qmp.waitFor('FIRST');
  await qmp.connect(fake.path);
  (await fake.nextConnection()).send({ event: 'FIRST', data: { x: 1 }, timestamp: 'broken' });
  t.same(await first, { event: 'FIRST', data: { x: 1 }, timestamp: { seconds: -1, microseconds: -1 } });
  t.match(await listener.next(), { value: { event: 'FIRST' } });
  t.throws(() => qmp.events({ names: [1 as unknown as string] }), { code: 'QMP_ARGUMENT' });
  t.throws(() => qmp.events({ filter: 'x' as unknown as () => boolean }), { code: 'QMP_ARGUMENT' });
});
