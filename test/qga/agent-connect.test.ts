import { join } from 'node:path';
import t from 'tap';
import { GuestAgent } from '../../lib/qga/index.js';
import { shortTempDir } from '../fixtures/guests.js';
import { type FakeAgentOptions, startFakeAgent, syncId, syncReply } from './fake-agent.js';

const dir = shortTempDir(t);
let count = 0;

const fake = async (t: { teardown(fn: () => unknown): void }, options: FakeAgentOptions = {}) => {
  const agent = await startFakeAgent(join(dir, `c${count++}.sock`), options);
  t.teardown(() => agent.close());
  return agent;
};

t.test('connect sends 0xFF, then a sync, and skips everything up to its reply', async (t) => {
  const server = await fake(t, {
    handler: (request, conn) => {
      if (request['execute'] !== 'guest-sync-delimited') return false;
      // What a previous client can leave in the pipe, and the error our own 0xFF provokes.
      conn.send('{"return": {}, "id": "old-1"}\n{"half a re');
      conn.send(Buffer.from([0xc3, 0x28, 0x0a]));
      conn.send({ error: { class: 'GenericError', desc: "JSON parse error, stray '\uFFFD'" } });
      conn.send(syncReply(123456));
      conn.send('not json at all\n');
      conn.send(syncReply(syncId(request)));
      return true;
    },
  });
  const agent = await GuestAgent.connect(server.path, { timeout: 5000 });
  t.teardown(() => agent.close());
  const conn = server.connections[0]!;
  t.equal(conn.resets, 1, 'one 0xFF before the sync');
  t.match(conn.received, [{ execute: 'guest-sync-delimited', arguments: { id: Number } }]);
  await agent.ping();
  t.match(conn.received.at(-1), { execute: 'guest-ping', id: /^qga-[0-9a-f]{6}-1$/ });
  t.equal(agent.label, server.path);
});

t.test('a sync the agent misses is sent again with a new id, each after 0xFF', async (t) => {
  let seen = 0;
  const server = await fake(t, {
    handler: (request, conn) => {
      if (request['execute'] !== 'guest-sync-delimited') return false;
      if (++seen === 3) conn.send(syncReply(syncId(request)));
      return true; // the first two vanish, as when the agent is not up yet
    },
  });
  const agent = await GuestAgent.connect(server.path, { timeout: 5000, syncRetry: 20 });
  t.teardown(() => agent.close());
  const conn = server.connections[0]!;
  const ids = conn.received.map(syncId);
  t.equal(ids.length, 3);
  t.equal(new Set(ids).size, 3, 'fresh id each time');
  t.equal(conn.resets, 3);
});

t.test('a slow agent answering older syncs first does not make the client resend forever', async (t) => {
  const server = await fake(t, {
    handler: (request, conn) => {
      if (request['execute'] !== 'guest-sync-delimited') return false;
      setTimeout(() => conn.send(syncReply(syncId(request))), 60);
      return true;
    },
  });
  const agent = await GuestAgent.connect(server.path, { timeout: 5000, syncRetry: 25 });
  t.teardown(() => agent.close());
  t.ok(server.connections[0]!.received.length <= 3, `${server.connections[0]!.received.length} syncs`);
  await agent.ping();
});

t.test('an agent that never answers: QGA_TIMEOUT naming the socket, with the hint', async (t) => {
  const server = await fake(t, { sync: false });
  const started = Date.now();
  await t.rejects(GuestAgent.connect(server.path, { timeout: 300, syncRetry: 50 }), {
    code: 'QGA_TIMEOUT',
    message: new RegExp(`guest-sync-delimited: no answer from the guest agent at ${server.path} within`),
    hint: /qemu-guest-agent installed and running/,
  });
  t.ok(Date.now() - started < 2000);
  const conn = server.connections[0]!;
  t.ok(conn.received.length >= 2, 'sync was retried');
  await new Promise((resolve) => conn.socket.once('close', resolve));
  t.pass('the socket is closed after the failure');
});

t.test('no socket: QGA_CONNECT with errno and hint; too long a path too', async (t) => {
  await t.rejects(GuestAgent.connect(join(dir, 'missing.sock')), {
    code: 'QGA_CONNECT',
    errno: 'ENOENT',
    message: /cannot connect to guest agent socket .*missing\.sock: ENOENT/,
    hint: /org\.qemu\.guest_agent\.0/,
  });
  await t.rejects(GuestAgent.connect(`/tmp/${'x'.repeat(120)}.sock`), {
    code: 'QGA_CONNECT',
    errno: 'ENAMETOOLONG',
    message: /the limit is 107/,
  });
});

t.test('abort: QGA_ABORTED, also with a signal aborted up front', async (t) => {
  const server = await fake(t, { sync: false });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('user gave up')), 50);
  await t.rejects(GuestAgent.connect(server.path, { signal: controller.signal }), {
    code: 'QGA_ABORTED',
    message: 'guest-sync-delimited was aborted',
    cause: { message: 'user gave up' },
  });
  await t.rejects(GuestAgent.connect(server.path, { signal: AbortSignal.abort() }), { code: 'QGA_ABORTED' });
});

t.test('the agent hangs up during the sync: QGA_CLOSED', async (t) => {
  const server = await fake(t, {
    handler: (request, conn) => {
      conn.socket.destroy();
      return request !== undefined;
    },
  });
  await t.rejects(GuestAgent.connect(server.path, { timeout: 5000 }), {
    code: 'QGA_CLOSED',
    message: /guest agent socket .* while guest-sync-delimited was pending/,
  });
});

t.test('bad options are QGA_ARGUMENT before anything connects', async (t) => {
  const path = join(dir, 'never.sock');
  const bad: Array<[unknown, object, RegExp]> = [
    ['', {}, /socket path/],
    [42, {}, /socket path/],
    [path, { timeout: -1 }, /`timeout`/],
    [path, { signal: 'x' }, /`signal`/],
    [path, { commandTimeout: 0 }, /`commandTimeout`/],
    [path, { syncRetry: Number.NaN }, /`syncRetry`/],
    [path, { maxLineBytes: 0 }, /`maxLineBytes`/],
  ];
  for (const [target, options, message] of bad) {
    await t.rejects(GuestAgent.connect(target as string, options), { code: 'QGA_ARGUMENT', message });
  }
});
