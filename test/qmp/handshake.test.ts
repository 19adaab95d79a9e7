import t from 'tap';
import { QmpClosedError } from '../../lib/qmp/errors.js';
import { Handshake } from '../../lib/qmp/handshake.js';

const greeting = (capabilities: string[]) => ({
  QMP: { version: { qemu: { major: 9, minor: 1, micro: 0 }, package: 'v9.1.0' }, capabilities },
});

t.test('greeting, then qmp_capabilities (with oob only when offered), then running', async (t) => {
  const h = new Handshake('/run/vm/qmp.sock');
  t.equal(h.phase, 'socket');
  h.connected();
  t.equal(h.phase, 'greeting');
  t.same(h.receive(greeting(['oob'])), {
    kind: 'send',
    line: '{"execute":"qmp_capabilities","arguments":{"enable":["oob"]}}\n',
  });
  t.equal(h.phase, 'negotiating');
  t.same(h.receive({ event: 'STOP', timestamp: { seconds: 1, microseconds: 0 } }), {
    kind: 'event',
    event: { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 0 } },
  });
  t.match(h.receive({ return: {} }), { kind: 'running', greeting: { capabilities: ['oob'] } });

  const plain = new Handshake('x');
  plain.connected();
  t.same(plain.receive(greeting([])), { kind: 'send', line: '{"execute":"qmp_capabilities"}\n' });
});

t.test('wrong answers throw QMP_GREETING or QMP_NEGOTIATION', async (t) => {
  const h = new Handshake('s');
  h.connected();
  t.throws(() => h.receive({ return: {} }), { code: 'QMP_GREETING' });
  h.receive(greeting([]));
  t.throws(() => h.receive({ error: { class: 'GenericError', desc: 'bad' } }), {
    code: 'QMP_NEGOTIATION',
    message: 'qmp_capabilities failed on s: GenericError: bad',
  });
  t.throws(() => h.receive({ what: 1 }), {
    code: 'QMP_NEGOTIATION',
    message: /unexpected reply \{"what":1\}/,
  });
});

t.test('expiry and interruption errors are named after the phase', async (t) => {
  const h = new Handshake('/q.sock');
  t.match(h.expired({ kind: 'timeout', timeout: 5 }), {
    code: 'QMP_CONNECT',
    errno: 'ETIMEDOUT',
    path: '/q.sock',
    message: 'cannot connect to /q.sock within 5 ms',
  });
  t.match(h.expired({ kind: 'abort', reason: 'r' }), { code: 'QMP_ABORTED', cause: 'r' });
  h.connected();
  t.match(h.expired({ kind: 'timeout', timeout: 5 }), { code: 'QMP_GREETING', hint: /one client at a time/ });
  const closed = new QmpClosedError('gone');
  t.match(h.interrupted(closed), {
    code: 'QMP_GREETING',
    message: 'no valid QMP greeting from /q.sock: gone',
    cause: closed,
  });
  h.receive(greeting([]));
  t.match(h.expired({ kind: 'timeout', timeout: 5 }), {
    code: 'QMP_NEGOTIATION',
    message: 'no reply to qmp_capabilities within 5 ms from /q.sock',
  });
  t.match(h.interrupted(closed), { code: 'QMP_NEGOTIATION', cause: closed });
});
