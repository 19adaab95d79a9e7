import t from 'tap';
import { classifyMessage, encodeCommand, parseGreeting } from '../../lib/qmp/messages.js';

const good = { QMP: { version: { qemu: { major: 8, minor: 0, micro: 1 }, package: '' }, capabilities: [] } };

t.test('parseGreeting accepts the spec shape and says what is wrong otherwise', async (t) => {
  t.same(parseGreeting(good), {
    version: { qemu: { major: 8, minor: 0, micro: 1 }, package: '' },
    capabilities: [],
  });
  const extra = { QMP: { ...good.QMP, capabilities: ['oob', 'future'], extra: 1 }, more: true };
  t.same(
    parseGreeting(extra).capabilities,
    ['oob', 'future'],
    'unknown members and capabilities are tolerated',
  );
  const cases: Array<[unknown, RegExp]> = [
    [{}, /no "QMP" object/],
    [{ QMP: [] }, /no "QMP" object/],
    [{ QMP: { capabilities: [] } }, /no "version.qemu" object/],
    [
      { QMP: { version: { qemu: { major: '8', minor: 0, micro: 0 }, package: '' }, capabilities: [] } },
      /integers/,
    ],
    [{ QMP: { version: { qemu: { major: 8, minor: 0, micro: 0 } }, capabilities: [] } }, /package/],
    [{ QMP: { version: good.QMP.version } }, /"capabilities" is not an array/],
    [{ QMP: { version: good.QMP.version, capabilities: [1] } }, /"capabilities" is not an array of strings/],
  ];
  for (const [message, reason] of cases) {
    t.throws(() => parseGreeting(message as Record<string, unknown>), {
      code: 'QMP_GREETING',
      message: reason,
    });
  }
});

t.test('classifyMessage sorts events, replies and junk', async (t) => {
  t.same(classifyMessage({ event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } }), {
    kind: 'event',
    event: { event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } },
  });
  t.equal(classifyMessage({ event: 'X', data: [1] }), undefined, 'data must be an object');
  t.same(classifyMessage({ return: 3, id: 7 }), { kind: 'return', id: 7, value: 3 });
  t.same(classifyMessage({ error: { class: 'C', desc: 'd' } }), {
    kind: 'error',
    id: undefined,
    hasId: false,
    errorClass: 'C',
    desc: 'd',
  });
  t.match(classifyMessage({ error: { class: 'C' }, id: 'a' }), { kind: 'malformed', hasId: true, id: 'a' });
  t.match(classifyMessage({ id: 'a' }), { kind: 'malformed', reason: /neither/ });
  t.equal(classifyMessage({ something: 'else' }), undefined);
});

t.test('encodeCommand writes execute or exec-oob, arguments only when given, and one newline', async (t) => {
  t.equal(encodeCommand({ name: 'stop' }), '{"execute":"stop"}\n');
  t.equal(
    encodeCommand({ name: 'x', args: { a: 1 }, id: '__qmp#00009', oob: true }),
    '{"exec-oob":"x","arguments":{"a":1},"id":"__qmp#00009"}\n',
  );
  t.throws(() => encodeCommand({ name: 'x', args: 'str' as unknown as Record<string, unknown> }), {
    code: 'QMP_ARGUMENT',
    message: 'the arguments of QMP command x must be an object, got string',
  });
});
