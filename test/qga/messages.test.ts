import t from 'tap';
import { encodeRequest, encodeSync, newSyncId, replyFor, syncReplyId } from '../../lib/qga/messages.js';

t.test('the sync request is 0xFF, then guest-sync-delimited with the id, then a newline', async (t) => {
  const bytes = encodeSync(1234);
  t.equal(bytes[0], 0xff);
  t.equal(bytes.subarray(1).toString(), '{"execute":"guest-sync-delimited","arguments":{"id":1234}}\n');
});

t.test('sync ids are random positive safe integers', async (t) => {
  const ids = new Set(Array.from({ length: 100 }, () => newSyncId()));
  t.equal(ids.size, 100);
  for (const id of ids) t.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 47);
});

t.test('syncReplyId recognises {"return": N} only', async (t) => {
  t.equal(syncReplyId({ return: 5 }), 5);
  t.equal(syncReplyId({ return: 5, id: 'x' }), 5);
  t.equal(syncReplyId({ return: '5' }), undefined);
  t.equal(syncReplyId({ return: 1.5 }), undefined);
  t.equal(syncReplyId({ return: {} }), undefined);
  t.equal(syncReplyId({ error: { class: 'GenericError', desc: 'x' }, return: 5 }), undefined);
});

t.test('requests carry execute, arguments and id', async (t) => {
  t.equal(encodeRequest('guest-ping', undefined, 'q-1'), '{"execute":"guest-ping","id":"q-1"}\n');
  t.equal(
    encodeRequest('guest-exec-status', { pid: 7 }, 'q-2'),
    '{"execute":"guest-exec-status","arguments":{"pid":7},"id":"q-2"}\n',
  );
  t.throws(() => encodeRequest('', undefined, 'q'), { code: 'QGA_ARGUMENT', message: /command name/ });
  t.throws(() => encodeRequest('x', [1] as unknown as Record<string, unknown>, 'q'), {
    code: 'QGA_ARGUMENT',
    message: /must be an object, got an array/,
  });
  t.throws(() => encodeRequest('x', 'no' as unknown as Record<string, unknown>, 'q'), {
    message: /got string/,
  });
  t.throws(() => encodeRequest('x', { big: 1n }, 'q'), {
    code: 'QGA_ARGUMENT',
    message: /cannot be encoded/,
  });
});

t.test('replyFor: id-matched and id-less replies count, others do not', async (t) => {
  t.same(replyFor({ return: 1, id: 'a' }, 'a'), { kind: 'return', value: 1 });
  t.same(replyFor({ return: 1 }, 'a'), { kind: 'return', value: 1 });
  t.equal(replyFor({ return: 1, id: 'b' }, 'a'), undefined);
  t.same(replyFor({ error: { class: 'GenericError', desc: 'no' }, id: 'a' }, 'a'), {
    kind: 'error',
    errorClass: 'GenericError',
    desc: 'no',
  });
  t.same(replyFor({ error: { class: 'GenericError', desc: 'parse' } }, 'a'), {
    kind: 'error',
    errorClass: 'GenericError',
    desc: 'parse',
  });
  t.match(replyFor({ error: 'flat', id: 'a' }, 'a'), { kind: 'malformed' });
  t.match(replyFor({ id: 'a' }, 'a'), { kind: 'malformed', reason: /neither/ });
  t.equal(replyFor({ event: 'X' }, 'a'), undefined);
  t.equal(replyFor({ hello: 1 }, 'a'), undefined);
});
