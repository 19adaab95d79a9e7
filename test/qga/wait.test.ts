import { join } from 'node:path';
import t from 'tap';
import { waitForAgent } from '../../lib/qga/index.js';
import { shortTempDir } from '../fixtures/guests.js';
import { type FakeAgent, startFakeAgent, syncId, syncReply } from './fake-agent.js';

const dir = shortTempDir(t);
let count = 0;
const socketPath = () => join(dir, `w${count++}.sock`);

t.test('waits for the socket to appear, then for the agent to answer', async (t) => {
  const path = socketPath();
  let fake: FakeAgent | undefined;
  t.teardown(() => fake?.close());
  let syncs = 0;
  setTimeout(async () => {
    fake = await startFakeAgent(path, {
      handler: (request, conn) => {
        if (request['execute'] !== 'guest-sync-delimited') return false;
        if (++syncs >= 3) conn.send(syncReply(syncId(request))); // the agent comes up late
        return true;
      },
    });
  }, 150);
  const started = Date.now();
  const agent = await waitForAgent(path, { deadline: Date.now() + 10_000, syncRetry: 30 });
  t.ok(Date.now() - started >= 150);
  await agent.ping();
  await agent.close();
  t.equal(syncs, 3);
});

t.test('a connection dropped during the sync is retried', async (t) => {
  const path = socketPath();
  let connections = 0;
  const fake = await startFakeAgent(path, {
    handler: (request, conn) => {
      if (request['execute'] !== 'guest-sync-delimited') return false;
      if (++connections === 1) conn.socket.destroy();
      else conn.send(syncReply(syncId(request)));
      return true;
    },
  });
  t.teardown(() => fake.close());
  const agent = await waitForAgent(path, { deadline: Date.now() + 10_000 });
  await agent.close();
  t.equal(fake.connections.length, 2);
});

t.test('alive() turning false fails at once with QGA_CONNECT', async (t) => {
  const fake = await startFakeAgent(socketPath(), { sync: false });
  t.teardown(() => fake.close());
  let alive = true;
  setTimeout(() => {
    alive = false;
  }, 200);
  const started = Date.now();
  await t.rejects(waitForAgent(fake.path, { deadline: Date.now() + 60_000, alive: () => alive }), {
    code: 'QGA_CONNECT',
    message: `QEMU exited before the guest agent at ${fake.path} answered`,
  });
  t.ok(Date.now() - started < 2000, 'well before the deadline');
  await t.rejects(waitForAgent(socketPath(), { deadline: Date.now() + 60_000, alive: () => false }), {
    code: 'QGA_CONNECT',
    message: /QEMU exited/,
  });
});

t.test('the deadline: QGA_TIMEOUT with the hint and what went wrong last', async (t) => {
  const path = socketPath();
  await t.rejects(waitForAgent(path, { deadline: Date.now() + 300 }), {
    code: 'QGA_TIMEOUT',
    message: new RegExp(`no answer from the guest agent at ${path} within \\d+ ms \\(last: .*ENOENT`),
    hint: /qemu-guest-agent installed and running/,
    cause: { code: 'QGA_CONNECT', errno: 'ENOENT' },
  });
  const fake = await startFakeAgent(socketPath(), { sync: false });
  t.teardown(() => fake.close());
  await t.rejects(waitForAgent(fake.path, { deadline: Date.now() + 300, syncRetry: 50 }), {
    code: 'QGA_TIMEOUT',
    message: new RegExp(`no answer from the guest agent at ${fake.path} within \\d+ ms$`),
  });
  await t.rejects(waitForAgent(fake.path, { deadline: Date.now() - 1 }), { code: 'QGA_TIMEOUT' });
});

t.test('abort: QGA_ABORTED with the reason', async (t) => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('ctrl-c')), 100);
  await t.rejects(waitForAgent(socketPath(), { deadline: Date.now() + 60_000, signal: controller.signal }), {
    code: 'QGA_ABORTED',
    message: /waiting for the guest agent at .* was aborted/,
    cause: { message: 'ctrl-c' },
  });
  const fake = await startFakeAgent(socketPath(), { sync: false });
  t.teardown(() => fake.close());
  const during = new AbortController();
  setTimeout(() => during.abort(new Error('ctrl-c')), 100);
  await t.rejects(waitForAgent(fake.path, { deadline: Date.now() + 60_000, signal: during.signal }), {
    code: 'QGA_ABORTED',
    cause: { message: 'ctrl-c' },
  });
});

t.test('errors that waiting cannot fix are thrown at once', async (t) => {
  await t.rejects(waitForAgent(`/tmp/${'y'.repeat(120)}.sock`, { deadline: Date.now() + 60_000 }), {
    code: 'QGA_CONNECT',
    errno: 'ENAMETOOLONG',
  });
});

t.test('an over-long stale line before the sync reply is skipped', async (t) => {
  const fake = await startFakeAgent(socketPath(), {
    handler: (request, conn) => {
      if (request['execute'] !== 'guest-sync-delimited') return false;
      conn.send(`${'x'.repeat(100)}\n`);
      conn.send(syncReply(syncId(request)));
      return true;
    },
  });
  t.teardown(() => fake.close());
  const agent = await waitForAgent(fake.path, { deadline: Date.now() + 5000, maxLineBytes: 50 });
  await agent.ping();
  await agent.close();
});

t.test('bad options are QGA_ARGUMENT', async (t) => {
  const path = socketPath();
  await t.rejects(waitForAgent(path, {} as never), { code: 'QGA_ARGUMENT', message: /`deadline`/ });
  await t.rejects(waitForAgent(path, { deadline: Number.NaN }), { code: 'QGA_ARGUMENT' });
  await t.rejects(waitForAgent(path, { deadline: 1, alive: true as never }), {
    code: 'QGA_ARGUMENT',
    message: /`alive`/,
  });
  await t.rejects(waitForAgent(path, { deadline: 1, signal: 'x' as never }), { code: 'QGA_ARGUMENT' });
  await t.rejects(waitForAgent(path, { deadline: 1, commandTimeout: -1 }), { code: 'QGA_ARGUMENT' });
  await t.rejects(waitForAgent('', { deadline: 1 }), { code: 'QGA_ARGUMENT' });
});
