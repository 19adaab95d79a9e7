import t from 'tap';
import { formatBytes } from '../../lib/bytes.js';
import { progressLine, progressReporter } from '../../lib/cli/progress.js';

t.test('bytes for people', async (t) => {
  t.equal(formatBytes(0), '0 B');
  t.equal(formatBytes(1023), '1023 B');
  t.equal(formatBytes(1536), '1.5 KiB');
  t.equal(formatBytes(350 * 1024 * 1024), '350.0 MiB');
  t.equal(formatBytes(2 * 1024 ** 3), '2.0 GiB');
  t.equal(formatBytes(3 * 1024 ** 5), '3072.0 TiB');
});

t.test('a progress line: percentage, bar, bytes, rate; or bytes and rate without a total', async (t) => {
  const MiB = 1024 * 1024;
  t.equal(
    progressLine('pulling x', { done: 50 * MiB, total: 200 * MiB, elapsedMs: 5000 }),
    `pulling x   25%  [${'='.repeat(6)}${' '.repeat(18)}]  50.0 MiB / 200.0 MiB  10.0 MiB/s`,
  );
  t.equal(
    progressLine('pulling x', { done: 200 * MiB, total: 200 * MiB, elapsedMs: 1000 }, false),
    'pulling x  100%  200.0 MiB / 200.0 MiB  200.0 MiB/s',
  );
  t.equal(progressLine('p', { done: 3 * MiB, total: undefined, elapsedMs: 0 }), 'p  3.0 MiB');
  t.equal(progressLine('p', { done: 5, total: 0, elapsedMs: 1000 }), 'p  5 B  5 B/s');
});

/** A stream that records writes, with a settable clock. */
function fakeStream(tty: boolean) {
  const writes: string[] = [];
  return {
    writes,
    stream: { isTTY: tty, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WritableStream,
  };
}

t.test('a terminal gets one redrawn line, at most ten times a second, ended by a newline', async (t) => {
  const { writes, stream } = fakeStream(true);
  let clock = 0;
  const p = progressReporter('pulling x', stream, () => clock, {});
  for (let i = 1; i <= 100; i++) {
    clock += 10;
    p.update(i, 100);
  }
  t.ok(writes.length >= 9 && writes.length <= 11, `${writes.length} redraws in a second`);
  t.ok(writes.every((w) => w.startsWith('\r') && w.endsWith('\x1b[K')));
  p.finish();
  t.match(writes.at(-2), /100%/);
  t.equal(writes.at(-1), '\n');
  p.finish();
  t.equal(writes.at(-1), '\n', 'finish is idempotent');
});

t.test('a log gets a line per tenth after the first second, then a final one', async (t) => {
  const { writes, stream } = fakeStream(false);
  let clock = 0;
  const p = progressReporter('import', stream, () => clock);
  p.update(10, 100);
  t.same(writes, [], 'quiet in the first second');
  for (let i = 1; i <= 100; i++) {
    clock += 100;
    p.update(i, 100);
  }
  t.ok(writes.length >= 9 && writes.length <= 11, `${writes.length} lines`);
  t.ok(writes.every((w) => w.endsWith('\n') && !w.includes('\r') && !w.includes('[=')));
  const count = writes.length;
  p.finish();
  t.equal(writes.length, count, 'the 100% line was already written');

  const quick = fakeStream(false);
  const q = progressReporter('import', quick.stream, () => 0);
  q.update(5, 10);
  q.update(10, 10);
  q.finish();
  t.same(quick.writes, ['import  100%  10 B / 10 B\n'], 'a fast transfer: the final line only');

  const unknown = fakeStream(false);
  let c = 0;
  const u = progressReporter('dl', unknown.stream, () => c);
  c = 2000;
  u.update(300 * 1024 * 1024, undefined);
  u.update(400 * 1024 * 1024, undefined);
  u.finish();
  t.equal(unknown.writes.length, 2, 'a line per 256 MiB without a total, and the final one');

  const silent = fakeStream(true);
  progressReporter('x', silent.stream).finish();
  t.same(silent.writes, [], 'nothing shown, nothing to finish');
});

t.test(
  'a stall shows as "stalled N s" instead of the average rate, on a terminal and once in a log',
  async (t) => {
    const MiB = 1024 * 1024;
    t.equal(
      progressLine(
        'pulling x',
        { done: 50 * MiB, total: 100 * MiB, elapsedMs: 5000, stalledMs: 12_400 },
        false,
      ),
      'pulling x   50%  50.0 MiB / 100.0 MiB  stalled 12 s',
    );
    const tty = fakeStream(true);
    let clock = 0;
    const p = progressReporter('pulling x', tty.stream, () => clock, {});
    p.update(50, 100);
    clock += 1000;
    p.update(50, 100, 1000);
    t.ok(tty.writes.at(-1)?.endsWith('50 B / 100 B  stalled 1 s\x1b[K'), 'the stall replaces the rate');
    clock += 1000;
    p.update(60, 100);
    t.notMatch(tty.writes.at(-1), /stalled/, 'bytes again: the rate is back');

    const log = fakeStream(false);
    const l = progressReporter('dl', log.stream, () => 0);
    l.update(5, 10, 2000);
    l.update(5, 10, 3000);
    t.same(log.writes, ['dl   50%  5 B / 10 B  stalled 2 s\n'], 'one line per stall in a log');
  },
);

t.test('a dumb terminal gets plain lines, as a log does', async (t) => {
  const { writes, stream } = fakeStream(true);
  const p = progressReporter('import', stream, () => 0, { TERM: 'dumb' });
  p.update(5, 10);
  p.update(10, 10);
  p.finish();
  t.same(writes, ['import  100%  10 B / 10 B\n']);
});
