import { Duplex } from 'node:stream';
import t from 'tap';
import { AgentSession } from '../../lib/qga/session.js';

/** An in-memory stream standing in for the socket: what the session writes is kept, replies are pushed. */
const memoryStream = () => {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      written.push(chunk);
      done();
    },
  });
  return { stream, written };
};

const lastSyncId = (written: Buffer[]): number => {
  const line = written
    .map((b) => b.toString('latin1'))
    .join('')
    .split('\xff')
    .at(-1)!;
  return (JSON.parse(line) as { arguments: { id: number } }).arguments.id;
};

t.test('a socket error ends the session: QGA_CLOSED naming the errno', async (t) => {
  const { stream, written } = memoryStream();
  const session = new AgentSession(stream, { label: 'mem' });
  const synced = session.sync({ timeout: 5000 });
  await new Promise((resolve) => setImmediate(resolve));
  stream.push(Buffer.concat([Buffer.of(0xff), Buffer.from(`{"return": ${lastSyncId(written)}}\n`)]));
  await synced;
  const pending = session.request('guest-get-time', undefined, { timeout: 5000 });
  await new Promise((resolve) => setImmediate(resolve));
  stream.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await t.rejects(pending, {
    code: 'QGA_CLOSED',
    message: 'the guest agent socket mem failed (ECONNRESET) while guest-get-time was pending',
  });
  t.match(await session.closed, { code: 'QGA_CLOSED', cause: { code: 'ECONNRESET' } });
});

t.test('an error without errno is named by its message', async (t) => {
  const { stream } = memoryStream();
  const session = new AgentSession(stream, { label: 'mem' });
  stream.destroy(new Error('boom'));
  t.match(await session.closed, { message: 'the guest agent socket mem failed (boom)' });
});

t.test('destroy(reason): closed resolves with that reason', async (t) => {
  const { stream } = memoryStream();
  const session = new AgentSession(stream, { label: 'mem' });
  const pending = session.sync({ timeout: 5000 });
  const reason = new Error('VM stopped');
  session.destroy(reason);
  await t.rejects(pending, { code: 'QGA_CLOSED', message: /session on mem is closed/ });
  t.equal(await session.closed, reason);
  t.ok(stream.destroyed);
});

t.test('unencodable arguments are refused before anything is queued', async (t) => {
  const { stream, written } = memoryStream();
  const session = new AgentSession(stream, { label: 'mem' });
  await t.rejects(session.requestUnanswered('guest-shutdown', { big: 1n }), { code: 'QGA_ARGUMENT' });
  await t.rejects(session.request('guest-ping', { big: 1n }), { code: 'QGA_ARGUMENT' });
  t.equal(written.length, 0);
  session.destroy();
});
