import t from 'tap';
import { interruptible } from '../../lib/cli/interruptible.js';

const capture = (t: { teardown: (fn: () => void) => void }) => {
  const write = process.stderr.write.bind(process.stderr);
  let text = '';
  process.stderr.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stderr.write;
  t.teardown(() => {
    process.stderr.write = write;
  });
  return () => text;
};

t.test('a signal the task heeds stops it: 130 for SIGINT', async (t) => {
  const said = capture(t);
  const code = await interruptible(async (signal) => {
    process.emit('SIGINT', 'SIGINT');
    if (signal.aborted) throw new Error('stopped');
  });
  t.equal(code, 130);
  t.match(said(), /SIGINT: stopping; nothing half-made is kept/);
});

t.test('a signal that comes after the point of no return is reported as too late', async (t) => {
  const said = capture(t);
  const code = await interruptible(async () => {
    process.emit('SIGTERM', 'SIGTERM');
  });
  t.equal(code, 0, 'the task finished');
  t.match(said(), /SIGTERM came too late: it had already finished/);
});
