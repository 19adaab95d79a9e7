import t from 'tap';
import { terminalStateError, watchRunState } from '../../../lib/guest/access/run-state.js';

const fixes = { resume: 'resume it: qlaunch qmp box cont' };

t.test('terminal states, each with its reason and fix; others are not', async (t) => {
  const io = terminalStateError(
    { status: 'io-error', diskErrors: ['root (no space left on the host)'] },
    fixes,
  );
  t.equal(io?.code, 'VM_IO_ERROR');
  t.equal(io?.message, 'the guest is paused on a disk I/O error: root (no space left on the host)');
  t.match(io?.hint, /free space on the host filesystem .*, then resume it: qlaunch qmp box cont/);
  const failed = terminalStateError({ status: 'io-error', diskErrors: ['data (a failed write)'] }, fixes);
  t.match(failed?.hint, /check the host disk/);
  t.equal(terminalStateError({ status: 'guest-panicked' }, fixes)?.code, 'VM_KERNEL_PANIC');
  t.equal(terminalStateError({ status: 'shutdown' }, fixes)?.code, 'VM_EXITED');
  t.equal(terminalStateError({ status: 'internal-error' }, fixes)?.code, 'VM_EXITED');
  for (const status of ['running', 'paused', 'prelaunch', 'inmigrate', 'suspended', 'debug']) {
    t.equal(terminalStateError({ status }, fixes), undefined, status);
  }
});

t.test(
  'the watch looks until a terminal state, skipping failed looks; aborting ends it quietly',
  async (t) => {
    const seen = ['running', 'boom', 'running', 'io-error'];
    let looks = 0;
    const look = async () => {
      const status = seen[looks++];
      if (status === 'boom') throw new Error('QMP busy');
      return { status: status ?? 'running' };
    };
    await t.rejects(watchRunState(look, fixes, new AbortController().signal, 1), { code: 'VM_IO_ERROR' });
    t.equal(looks, 4, 'a failed look was skipped, not fatal');

    const stop = new AbortController();
    let settled = false;
    void watchRunState(async () => ({ status: 'running' }), fixes, stop.signal, 1).finally(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    await new Promise((resolve) => setTimeout(resolve, 20));
    t.notOk(settled, 'an aborted watch never settles');
  },
);
