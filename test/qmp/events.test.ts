import t from 'tap';
import { DEFAULT_EVENT_HISTORY, QmpEventHub } from '../../lib/qmp/events.js';
import type { QmpEvent } from '../../lib/qmp/messages.js';

const ev = (name: string, n = 0): QmpEvent => ({
  event: name,
  data: { n },
  timestamp: { seconds: n, microseconds: 0 },
});

t.test('history is bounded, cursors count every event, since() reads what is left', async (t) => {
  const hub = new QmpEventHub(3);
  t.equal(new QmpEventHub().historySize, DEFAULT_EVENT_HISTORY);
  t.equal(hub.cursor(), 0);
  t.equal(hub.oldestCursor(), 0);
  for (let i = 0; i < 5; i++) hub.dispatch(ev('E', i));
  t.equal(hub.cursor(), 5);
  t.equal(hub.oldestCursor(), 2);
  t.same(
    hub.since(0).map((e) => e.data['n']),
    [2, 3, 4],
  );
  t.same(
    hub.since(4).map((e) => e.data['n']),
    [4],
  );
  t.same(hub.since(5), []);
  const none = new QmpEventHub(0);
  none.dispatch(ev('E'));
  t.same(none.since(0), [], 'a zero history keeps nothing');
  t.equal(none.cursor(), 1);
});

t.test('listeners register and detach; the hub forgets closed ones', async (t) => {
  const hub = new QmpEventHub();
  const a = hub.listen();
  const b = hub.listen({ names: 'X' });
  t.equal(hub.listenerCount, 2);
  await a.return();
  t.equal(hub.listenerCount, 1);
  hub.dispatch(ev('X'));
  t.equal(b.queued, 1);
  hub.end();
  t.equal(hub.listenerCount, 0);
  t.equal(b.ended, true);
  t.match(await b.next(), { done: false, value: { event: 'X' } }, 'queued events survive the end');
  t.same(await b.next(), { done: true, value: undefined });
  const after = hub.listen({ since: 0 });
  t.equal(after.ended, true);
  t.equal(after.queued, 1);
  t.equal(hub.listenerCount, 0, 'a listener made after the end is never registered');
});

t.test(
  'a filter that throws with nobody waiting fails the next read once, then the listener is done',
  async (t) => {
    const hub = new QmpEventHub();
    const boom = new Error('bad filter');
    const listener = hub.listen({
      filter: () => {
        throw boom;
      },
    });
    hub.dispatch(ev('E'));
    t.equal(listener.ended, true);
    t.equal(hub.listenerCount, 0);
    await t.rejects(listener.next(), boom);
    t.same(await listener.next(), { done: true, value: undefined });
    const replayed = hub.listen({
      since: 0,
      filter: () => {
        throw boom;
      },
    });
    t.equal(hub.listenerCount, 0, 'a listener that fails during history replay is not registered');
    await t.rejects(replayed.next(), boom);
  },
);

t.test('several next() calls wait in order; return() releases them', async (t) => {
  const hub = new QmpEventHub();
  const listener = hub.listen();
  const first = listener.next();
  const second = listener.next();
  const third = listener.next();
  hub.dispatch(ev('A'));
  hub.dispatch(ev('B'));
  t.match(await first, { value: { event: 'A' } });
  t.match(await second, { value: { event: 'B' } });
  await listener.return();
  t.same(await third, { done: true, value: undefined });
  t.equal(listener[Symbol.asyncIterator](), listener);
});

t.test('bad selectors and sizes are refused with QMP_ARGUMENT', async (t) => {
  t.throws(() => new QmpEventHub(1.5), { code: 'QMP_ARGUMENT', message: /`eventHistory`/ });
  const hub = new QmpEventHub();
  t.throws(() => hub.listen({ since: 0.5 }), { code: 'QMP_ARGUMENT', message: /`since`/ });
  t.throws(() => hub.listen({ names: 3 as unknown as string }), { code: 'QMP_ARGUMENT', message: /`names`/ });
  t.equal(hub.listenerCount, 0);
});
