import t from 'tap';
import { armDeadline, checkSignal, checkTimeout, type DeadlineExpiry } from '../../lib/qmp/deadline.js';

t.test('checkTimeout takes positive numbers and Infinity, names the option otherwise', async (t) => {
  t.equal(checkTimeout(1, 'timeout'), 1);
  t.equal(checkTimeout(Number.POSITIVE_INFINITY, 'timeout'), Number.POSITIVE_INFINITY);
  for (const bad of [0, -1, Number.NaN, '5', undefined]) {
    t.throws(() => checkTimeout(bad, 'waitTimeout'), { code: 'QMP_ARGUMENT', message: /`waitTimeout`/ });
  }
  t.equal(checkSignal(undefined), undefined);
  const signal = new AbortController().signal;
  t.equal(checkSignal(signal), signal);
  t.throws(() => checkSignal({ aborted: false }), { code: 'QMP_ARGUMENT', message: /got object/ });
});

t.test('armDeadline fires once on timeout, once on abort, at once when already aborted', async (t) => {
  const seen: DeadlineExpiry[] = [];
  armDeadline({ timeout: 10 }, (e) => seen.push(e));
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.same(seen, [{ kind: 'timeout', timeout: 10 }]);

  const controller = new AbortController();
  const aborts: DeadlineExpiry[] = [];
  armDeadline({ timeout: 20, signal: controller.signal }, (e) => aborts.push(e));
  controller.abort('why');
  controller.abort('again');
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.same(aborts, [{ kind: 'abort', reason: 'why' }], 'the abort disarmed the timer');

  const early: DeadlineExpiry[] = [];
  const disarm = armDeadline({ signal: AbortSignal.abort('before') }, (e) => early.push(e));
  t.same(early, [{ kind: 'abort', reason: 'before' }]);
  disarm();
});

t.test('disarm cancels both; Infinity and delays past the timer limit arm no timer', async (t) => {
  const controller = new AbortController();
  const seen: DeadlineExpiry[] = [];
  const disarm = armDeadline({ timeout: 10, signal: controller.signal }, (e) => seen.push(e));
  disarm();
  controller.abort();
  for (const timeout of [Number.POSITIVE_INFINITY, 2 ** 31]) {
    const off = armDeadline({ timeout }, (e) => seen.push(e));
    setTimeout(off, 30);
  }
  await new Promise((resolve) => setTimeout(resolve, 40));
  t.same(seen, [], 'nothing fired (a clamped 2^31 ms timer would have fired after 1 ms)');
});
