import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import t from 'tap';
import { ErrorCode, isQlaunchError } from '../../lib/errors.js';
import { QmpClient, type QmpEvent } from '../../lib/qmp/index.js';

t.setTimeout(60_000);

const BINARY = 'qemu-system-x86_64';
const probe = await execa(BINARY, ['--version'], { reject: false });
const missing = (probe.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/** Connects, retrying only while the socket is not there yet (QEMU creates it shortly after starting). */
const connectWhenReady = async (qmp: QmpClient, socket: string, alive: () => boolean) => {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await qmp.connect(socket);
    } catch (error) {
      if (!isQlaunchError(error, ErrorCode.QMP_CONNECT) || !alive() || Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
};

t.test('against a real QEMU', { skip: missing ? `${BINARY} is not installed` : false }, async (t) => {
  const firstLine = probe.stdout.split('\n')[0] ?? '';
  const version = /version (\d+)\.(\d+)\.(\d+)/.exec(firstLine);
  if (!version) throw new Error(`cannot read a version from: ${firstLine}`);
  const socket = join(t.testdir(), 'qmp.sock');
  const socketPattern = socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const qemu = execa(
    BINARY,
    [
      '-machine',
      'none',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-qmp',
      `unix:${socket},server=on,wait=off`,
      '-S',
    ],
    { reject: false, stdin: 'ignore' },
  );
  let exited = false;
  void qemu.finally(() => {
    exited = true;
  });
  const qmp = new QmpClient({ commandTimeout: 10_000 });
  t.teardown(async () => {
    qmp.destroy();
    qemu.kill('SIGKILL');
    await qemu;
  });

  const greeting = await connectWhenReady(qmp, socket, () => !exited);

  t.test('the greeting matches --version and offers oob', async (t) => {
    const [, major, minor, micro] = version.map(Number);
    t.same(greeting.version.qemu, { major, minor, micro });
    if (greeting.version.package !== '') t.match(firstLine, greeting.version.package);
    t.ok(greeting.capabilities.includes('oob'));
    t.equal(qmp.oobEnabled, true);
    t.same(await qmp.execute('query-version'), greeting.version);
  });

  t.test('queries on a paused machine with no board', async (t) => {
    t.match(await qmp.execute('query-status'), { running: false, status: 'prelaunch' });
    t.same(await qmp.execute('query-cpus-fast'), []);
    t.same(await qmp.execute('query-name'), {});
    t.match(await qmp.execute('query-kvm'), { enabled: false });
    const names = (await qmp.execute('query-commands')).map((c) => c.name);
    t.ok(names.includes('quit') && names.includes('human-monitor-command'));
  });

  t.test('cont and stop change the status and send RESUME and STOP through the iterator', async (t) => {
    const events = qmp.events({ names: ['STOP', 'RESUME'] });
    t.same(await qmp.execute('cont'), {});
    t.match(await qmp.execute('query-status'), { running: true, status: 'running' });
    t.same(await qmp.execute('stop'), {});
    t.match(await qmp.execute('query-status'), { running: false, status: 'paused' });
    const seen: QmpEvent[] = [];
    for await (const event of events) {
      seen.push(event);
      if (seen.length === 2) break;
    }
    t.same(
      seen.map((e) => e.event),
      ['RESUME', 'STOP'],
    );
    t.ok(
      seen.every((e) => e.timestamp.seconds > 1_600_000_000),
      'QEMU stamps events with host time',
    );
  });

  t.test('command errors carry class and desc; exec-oob reaches QEMU', async (t) => {
    await t.rejects(qmp.execute('no-such-command'), {
      code: 'QMP_EXECUTE',
      errorClass: 'CommandNotFound',
      command: 'no-such-command',
      desc: /no-such-command/,
    });
    // QEMU itself refuses OOB for query-status: proof the exec-oob form was sent and understood.
    await t.rejects(qmp.execute('query-status', undefined, { oob: true }), {
      code: 'QMP_EXECUTE',
      errorClass: 'GenericError',
      desc: /does not support OOB/,
    });
    const text = await qmp.execute('human-monitor-command', { 'command-line': 'info version' });
    t.match(text, `${version[1]}.${version[2]}.${version[3]}`);
  });

  t.test(
    'quit: SHUTDOWN, then QEMU hangs up; commands queued behind quit fail with QMP_CLOSED',
    async (t) => {
      const cursor = qmp.eventCursor();
      const quit = qmp.execute('quit');
      const behind = [qmp.execute('query-status'), qmp.execute('query-name'), qmp.execute('query-kvm')];
      t.same(await quit, {});
      const shutdown = await qmp.waitFor('SHUTDOWN', { since: cursor, timeout: 10_000 });
      t.same(shutdown.data, { guest: false, reason: 'host-qmp-quit' });
      const outcomes = await Promise.allSettled(behind);
      const failures = outcomes
        .filter((o) => o.status === 'rejected')
        .map((o) => (o as PromiseRejectedResult).reason);
      t.ok(failures.length >= 1, 'QEMU exits before answering what was queued behind quit');
      for (const failure of failures) {
        t.match(failure, {
          code: 'QMP_CLOSED',
          message: new RegExp(`^the connection to ${socketPattern} closed while query-`),
        });
      }
      t.match(await qmp.closed, {
        code: 'QMP_CLOSED',
        message: new RegExp(`^${socketPattern} closed the connection`),
      });
      t.equal(qmp.state, 'closed');
      t.match(await qemu, { exitCode: 0 }, 'QEMU exited by itself');
    },
  );
});
