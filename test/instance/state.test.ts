import { mkdirSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { instancePaths } from '../../lib/instance/layout.js';
import { isInstanceQemu, readPidFile, readRuntime, writeRuntime } from '../../lib/instance/runtime.js';
import { instanceStatus, judgeState } from '../../lib/instance/state.js';
import { processStartTicks } from '../../lib/process-alive.js';

const runtime = { pid: 42, startedAt: 'now', binary: '/usr/bin/qemu-system-x86_64', accel: 'tcg' as const };

t.test('the state is judged from evidence', async (t) => {
  t.match(judgeState({ pidFile: true, livePid: 42, qmpStatus: 'running', runtime }), {
    state: 'running',
    pid: 42,
  });
  t.match(judgeState({ pidFile: true, livePid: 42, qmpStatus: 'paused' }), {
    state: 'paused',
    qemuStatus: 'paused',
  });
  t.match(judgeState({ pidFile: true, livePid: 42, qmpStatus: 'prelaunch' }), { state: 'paused' });
  t.match(judgeState({ pidFile: true, livePid: 42 }), { state: 'running', detail: /QMP did not answer/ });
  t.match(judgeState({ pidFile: true, runtime }), { state: 'crashed', detail: /pidfile was left/ });
  t.match(judgeState({ pidFile: false, runtime }), { state: 'stopped', detail: /powered itself off/ });
  t.match(judgeState({ pidFile: false }), { state: 'stopped', detail: 'not running' });
  // A QEMU that dropped to another user cannot remove its pidfile: its log says whether it shut down.
  const confined = { ...runtime, runAs: 'nobody', qemuLogOffset: 0 };
  t.match(judgeState({ pidFile: true, runtime: confined, shutdownLogged: true }), {
    state: 'stopped',
    detail: /as nobody it cannot remove its pidfile/,
  });
  t.match(judgeState({ pidFile: true, runtime: confined, shutdownLogged: false }), { state: 'crashed' });
});

t.test(
  'stale records are never trusted: a pid that is not this instance’s QEMU does not count',
  async (t) => {
    const paths = instancePaths('dev', t.testdir());
    // This test process is alive but is not QEMU; a dead pid is not alive.
    t.notOk(await isInstanceQemu(process.pid, paths));
    t.notOk(await isInstanceQemu(999_999_999, paths));
    t.match(await processStartTicks(process.pid), /^\d+$/);
    t.equal(await processStartTicks(999_999_999), undefined);
  },
);

t.test('runtime record and pidfile reading', async (t) => {
  const paths = instancePaths('dev', t.testdir());
  mkdirSync(paths.dir);
  t.equal(await readRuntime(paths.runtime), undefined);
  await writeRuntime(paths.runtime, { ...runtime, pid: process.pid });
  t.same(await readRuntime(paths.runtime), { ...runtime, pid: process.pid });
  writeFileSync(paths.runtime, '{"pid": ');
  t.equal(await readRuntime(paths.runtime), undefined, 'a half-written record is ignored');
  t.equal(await readPidFile(paths.pid), undefined);
  writeFileSync(paths.pid, `${process.pid}\n`);
  t.equal(await readPidFile(paths.pid), process.pid);
  writeFileSync(paths.pid, 'garbage');
  t.equal(await readPidFile(paths.pid), undefined);
});

t.test('a pidfile left by a dead QEMU reads as crashed; a live non-QEMU pid does not count', async (t) => {
  const dir = t.testdir();
  const paths = instancePaths('dev', dir);
  mkdirSync(paths.dir);
  t.match(await instanceStatus(paths), { state: 'stopped' });
  await writeRuntime(paths.runtime, { ...runtime, pid: process.pid });
  writeFileSync(paths.pid, String(process.pid));
  t.match(await instanceStatus(paths), { state: 'crashed' }, 'pid reused by another process');
});
