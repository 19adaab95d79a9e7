import t from 'tap';
import { AgentStreamReader, DEFAULT_MAX_LINE_BYTES, SENTINEL } from '../../lib/qga/stream.js';

const kinds = (items: ReturnType<AgentStreamReader['push']>) =>
  items.map((item) =>
    item.kind === 'message' ? item.message : item.kind === 'error' ? 'error' : 'sentinel',
  );

t.test('lines split across chunks and several lines in one chunk', async (t) => {
  const reader = new AgentStreamReader();
  t.same(kinds(reader.push(Buffer.from('{"return": {}, "id": "a"}\n{"ret'))), [{ return: {}, id: 'a' }]);
  t.same(kinds(reader.push(Buffer.from('urn": 1}\r\n'))), [{ return: 1 }]);
  t.equal(reader.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
});

t.test('a multi-byte character split across chunks survives', async (t) => {
  const reader = new AgentStreamReader();
  const bytes = Buffer.from('{"return": "“x”"}\n');
  t.same(kinds(reader.push(bytes.subarray(0, 13))), []);
  t.same(kinds(reader.push(bytes.subarray(13))), [{ return: '“x”' }]);
});

t.test('0xFF drops the unfinished line before it and is reported as a sentinel', async (t) => {
  const reader = new AgentStreamReader();
  const chunk = Buffer.concat([
    Buffer.from('{"return": 7}\n{"stale half'),
    Buffer.of(SENTINEL),
    Buffer.from('{"return": 42}\n'),
  ]);
  t.same(kinds(reader.push(chunk)), [{ return: 7 }, 'sentinel', { return: 42 }]);
});

t.test('sentinels split from their line, back to back, and at a chunk edge', async (t) => {
  const reader = new AgentStreamReader();
  t.same(kinds(reader.push(Buffer.from('junk without newline'))), []);
  t.same(kinds(reader.push(Buffer.of(SENTINEL, SENTINEL))), ['sentinel', 'sentinel']);
  t.same(kinds(reader.push(Buffer.from('{"return":'))), []);
  t.same(kinds(reader.push(Buffer.from(' 9}\n'))), [{ return: 9 }]);
});

t.test('bad JSON and non-objects are QGA_PROTOCOL errors; the reader goes on', async (t) => {
  const reader = new AgentStreamReader();
  const items = reader.push(Buffer.from('{bad json\n[1]\n{"return": 1}\n'));
  t.equal(items.length, 3);
  t.match(items[0], {
    kind: 'error',
    error: { code: 'QGA_PROTOCOL', message: /guest agent sent|not valid JSON/ },
  });
  t.match(items[1], { kind: 'error', error: { code: 'QGA_PROTOCOL', message: /not an object/ } });
  t.match(items[2], { kind: 'message', message: { return: 1 } });
});

t.test('an over-long line is one error; the next line parses', async (t) => {
  const reader = new AgentStreamReader(16);
  const items = reader.push(Buffer.from(`{"return": "${'x'.repeat(40)}"}\n{"return": 2}\n`));
  t.match(kinds(items), ['error', { return: 2 }]);
  t.match(items[0], { kind: 'error', error: { code: 'QGA_PROTOCOL', message: /longer than 16 bytes/ } });
});

t.test('end() parses an unterminated last line', async (t) => {
  const reader = new AgentStreamReader();
  reader.push(Buffer.from('{"return": 3}'));
  t.same(kinds(reader.end()), [{ return: 3 }]);
  t.same(kinds(reader.end()), []);
});

t.test('maxLineBytes must be a positive integer', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    t.throws(() => new AgentStreamReader(bad), { code: 'QGA_ARGUMENT', message: /maxLineBytes/ });
  }
});
