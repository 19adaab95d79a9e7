import t from 'tap';
import { type PendingCommand, PendingCommands } from '../../lib/qmp/pending.js';

const entry = (id: string, log: string[]): PendingCommand => ({
  id,
  command: `cmd-${id}`,
  resolve: (v) => log.push(`resolve ${id} ${String(v)}`),
  reject: (e) => log.push(`reject ${id} ${e.message}`),
  disarm: () => log.push(`disarm ${id}`),
});

t.test('take removes and disarms; unknown and non-string ids give undefined', async (t) => {
  const log: string[] = [];
  const pending = new PendingCommands();
  pending.add(entry('a', log));
  t.equal(pending.size, 1);
  t.equal(pending.take(42), undefined);
  t.equal(pending.take('zz'), undefined);
  t.equal(pending.take('a')?.command, 'cmd-a');
  t.same(log, ['disarm a']);
  t.equal(pending.size, 0);
});

t.test('abandoned ids are remembered once, and only the last 1024', async (t) => {
  const pending = new PendingCommands();
  const log: string[] = [];
  t.equal(pending.abandon('nope'), undefined);
  t.notOk(pending.forgetAbandoned('nope'));
  for (let i = 0; i < 1030; i++) {
    pending.add(entry(`id${i}`, log));
    pending.abandon(`id${i}`);
  }
  t.notOk(pending.forgetAbandoned('id0'), 'the oldest fell out');
  t.ok(pending.forgetAbandoned('id1029'));
  t.notOk(pending.forgetAbandoned('id1029'), 'forgotten after one late reply');
  t.notOk(pending.forgetAbandoned(undefined));
});

t.test('failAll rejects each with its own error; drained() resolves when the table empties', async (t) => {
  const log: string[] = [];
  const pending = new PendingCommands();
  await pending.drained();
  pending.add(entry('a', log));
  pending.add(entry('b', log));
  let drained = false;
  const draining = pending.drained().then(() => {
    drained = true;
  });
  pending.take('a');
  await Promise.resolve();
  t.notOk(drained);
  pending.failAll((e) => new Error(`gone ${e.command}`));
  await draining;
  t.ok(drained);
  t.same(log, ['disarm a', 'disarm b', 'reject b gone cmd-b']);
});
