import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ErrorCode, isQlaunchError } from '../../../lib/errors.js';
import { runQmpJob } from '../../../lib/guest/snapshot/qmp-job.js';
import { QmpClient, QmpCommandError } from '../../../lib/qmp/index.js';
import { type FakeConnection, type Json, replyTo, startFakeServer } from '../../fixtures/qmp-fake-server.js';

const dir = t.testdir();
let sockets = 0;

interface Job {
  id: string;
  type: string;
  status: string;
  error?: string;
}

/**
 * A QEMU stand-in for one job command: `start` decides what happens to the job once created (the test drives it);
 * query-jobs and job-dismiss work on the jobs list like QEMU's.
 */
async function fakeQemu(t: Test, start: (job: Job, conn: FakeConnection, jobs: Job[]) => void) {
  const jobs: Job[] = [];
  const fake = await startFakeServer(join(dir, `j${sockets++}.sock`), {
    onCommand: (command, conn) => {
      const name = command['execute'] as string;
      const args = (command['arguments'] ?? {}) as Json;
      if (name === 'query-jobs') {
        conn.send(
          replyTo(
            command,
            jobs.map((j) => ({ ...j, 'current-progress': 1, 'total-progress': 1 })),
          ),
        );
      } else if (name === 'job-dismiss') {
        const at = jobs.findIndex((j) => j.id === args['id']);
        if (at >= 0) jobs.splice(at, 1);
        conn.send(replyTo(command));
      } else if (name === 'snapshot-save') {
        const job: Job = { id: args['job-id'] as string, type: name, status: 'created' };
        jobs.push(job);
        conn.send(replyTo(command));
        start(job, conn, jobs);
      } else {
        conn.send({
          error: { class: 'CommandNotFound', desc: `The command ${name} has not been found` },
          id: command['id'],
        });
      }
    },
  });
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  const conn = await fake.nextConnection();
  return { qmp, conn, jobs };
}

const statusEvent = (job: Job, status: string): Json => {
  job.status = status;
  return {
    event: 'JOB_STATUS_CHANGE',
    data: { id: job.id, status },
    timestamp: { seconds: 1, microseconds: 0 },
  };
};

const run = (
  qmp: QmpClient,
  options: { timeout?: number; signal?: AbortSignal; pollInterval?: number } = {},
) =>
  runQmpJob(
    qmp,
    'snapshot-save',
    { tag: 'base', vmstate: 'disk0', devices: ['disk0'] },
    {
      what: "saving snapshot 'base'",
      deadline: Date.now() + (options.timeout ?? 10_000),
      signal: options.signal,
      pollInterval: options.pollInterval ?? 10_000,
    },
  );

t.test('a job that concludes is waited for by its event, then dismissed', async (t) => {
  const { qmp, conn, jobs } = await fakeQemu(t, (job, conn) => {
    setTimeout(() => {
      for (const status of ['running', 'waiting', 'pending', 'concluded'])
        conn.send(statusEvent(job, status));
    }, 50);
  });
  const started = Date.now();
  await run(qmp);
  t.ok(Date.now() - started < 5000, 'the event ended the wait, not the 10 s poll');
  t.same(jobs, [], 'dismissed');
  const sent = conn.received.map((c) => c['execute']);
  t.same(sent.slice(1, 2), ['snapshot-save']);
  t.equal(sent.at(-1), 'job-dismiss');
  const args = conn.received[1]!['arguments'] as Json;
  t.match(args['job-id'], /^qlaunch-snapshot-save-[0-9a-f]{8}$/, 'a unique, well-formed job id');
  t.same(
    { ...args, 'job-id': undefined },
    { tag: 'base', vmstate: 'disk0', devices: ['disk0'], 'job-id': undefined },
  );
});

t.test('a job whose events are lost is found concluded by polling', async (t) => {
  const { qmp } = await fakeQemu(t, (job) => {
    setTimeout(() => {
      job.status = 'concluded';
    }, 100);
  });
  await run(qmp, { pollInterval: 50 });
  t.pass('concluded without any event');
});

t.test('a job that concludes with an error: its message, and still dismissed', async (t) => {
  const { qmp, jobs } = await fakeQemu(t, (job, conn) => {
    job.error = "Snapshot 'base' already exists in one or more devices";
    conn.send(statusEvent(job, 'aborting'));
    conn.send(statusEvent(job, 'concluded'));
  });
  const error = await run(qmp).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, ErrorCode.VM_SNAPSHOT));
  t.equal(
    (error as Error).message,
    "saving snapshot 'base' failed: Snapshot 'base' already exists in one or more devices",
  );
  t.same(jobs, [], 'dismissed');
});

t.test('a job that vanishes (dismissed by someone else) is an error, not a hang', async (t) => {
  const { qmp } = await fakeQemu(t, (_job, _conn, jobs) => {
    setTimeout(() => jobs.splice(0), 50);
  });
  await t.rejects(run(qmp, { pollInterval: 50 }), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /vanished before qlaunch read its result/,
  });
});

t.test('a job that never concludes times out with the operation named', async (t) => {
  const { qmp } = await fakeQemu(t, (job, conn) => conn.send(statusEvent(job, 'running')));
  const started = Date.now();
  await t.rejects(run(qmp, { timeout: 300, pollInterval: 50 }), {
    code: ErrorCode.VM_TIMEOUT,
    message: /^saving snapshot 'base' did not finish within \d+ ms$/,
  });
  t.ok(Date.now() - started < 3000);
});

t.test('a QEMU stuck in the job (no answer to query-jobs) times out too', async (t) => {
  const fake = await startFakeServer(join(dir, `j${sockets++}.sock`), {
    onCommand: (command, conn) => {
      if (command['execute'] === 'snapshot-save') conn.send(replyTo(command));
      // query-jobs gets no answer: QEMU's main loop is busy writing the snapshot.
    },
  });
  const qmp = new QmpClient();
  t.teardown(async () => {
    qmp.destroy();
    await fake.close();
  });
  await qmp.connect(fake.path);
  await t.rejects(run(qmp, { timeout: 300 }), { code: ErrorCode.VM_TIMEOUT });
});

t.test('an abort while waiting is VM_ABORTED, with the reason as cause', async (t) => {
  const { qmp } = await fakeQemu(t, (job, conn) => conn.send(statusEvent(job, 'running')));
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user pressed ^C')), 100);
  const error = await run(qmp, { signal: controller.signal, pollInterval: 20 }).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, ErrorCode.VM_ABORTED));
  t.equal(((error as Error).cause as Error).message, 'user pressed ^C');
});

t.test('a missing job command surfaces as the QMP error, so the caller can fall back', async (t) => {
  const { qmp } = await fakeQemu(t, () => {});
  const error = await runQmpJob(qmp, 'snapshot-load', {}, { what: 'x', deadline: Date.now() + 5000 }).catch(
    (e: unknown) => e,
  );
  t.ok(error instanceof QmpCommandError);
  t.equal((error as QmpCommandError).errorClass, 'CommandNotFound');
});
