import fc from 'fast-check';
import t from 'tap';
import {
  DEFAULT_MAX_LINE_BYTES,
  type FramedItem,
  JsonLineReader,
  parseJsonLine,
} from '../../lib/qmp/framing.js';

const messages = (items: FramedItem[]) => items.map((i) => (i.kind === 'message' ? i.message : i.error.code));

t.test('merged lines in one chunk, CRLF and LF, blank lines skipped', async (t) => {
  const reader = new JsonLineReader();
  const items = reader.push('{"a":1}\r\n{"b":2}\n\r\n   \n{"c":"x y"}\r\n');
  t.same(messages(items), [{ a: 1 }, { b: 2 }, { c: 'x y' }]);
  t.same(
    items.map((i) => i.kind === 'message' && i.line),
    ['{"a":1}', '{"b":2}', '{"c":"x y"}'],
  );
  t.equal(reader.bufferedBytes, 0);
  t.equal(reader.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
});

t.test(
  'a line split across chunks, including inside a multi-byte character and between \\r and \\n',
  async (t) => {
    const reader = new JsonLineReader();
    const bytes = Buffer.from('{"desc":"naïve ✓"}\r\n', 'utf8');
    const cut = bytes.indexOf(0xe2) + 1; // inside the 3-byte ✓
    t.same(reader.push(bytes.subarray(0, cut)), []);
    t.equal(reader.bufferedBytes, cut);
    t.same(reader.push(bytes.subarray(cut, bytes.length - 1)), []);
    t.same(messages(reader.push(bytes.subarray(bytes.length - 1))), [{ desc: 'naïve ✓' }]);
  },
);

t.test('any split of a stream yields the same messages as one chunk (property)', async (t) => {
  const json = fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), {
    maxKeys: 4,
  });
  fc.assert(
    fc.property(
      fc.array(json, { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.boolean(),
      (objects, cuts, crlf) => {
        const stream = Buffer.from(
          objects.map((o) => `${JSON.stringify(o)}${crlf ? '\r\n' : '\n'}`).join(''),
        );
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new JsonLineReader();
        const out: FramedItem[] = [];
        let start = 0;
        for (const point of [...points, stream.length]) {
          out.push(...reader.push(stream.subarray(start, point)));
          start = point;
        }
        const expected = objects.map((o) => JSON.parse(JSON.stringify(o)));
        return JSON.stringify(messages(out)) === JSON.stringify(expected) && reader.bufferedBytes === 0;
      },
    ),
  );
  t.pass('fast-check found no split that changes the result');
});

t.test('bad JSON and non-objects are errors; the reader carries on with the next line', async (t) => {
  const reader = new JsonLineReader();
  const items = reader.push('{"a":\r\n[1,2]\nnull\n"s"\n{"ok":true}\n');
  t.same(messages(items), ['QMP_PROTOCOL', 'QMP_PROTOCOL', 'QMP_PROTOCOL', 'QMP_PROTOCOL', { ok: true }]);
  t.match(items[0], { kind: 'error', error: { message: 'received a line that is not valid JSON: {"a":' } });
  t.match(items[1], { error: { message: 'received JSON that is not an object: [1,2]' } });
  const long = parseJsonLine(Buffer.from(`{"x":"${'z'.repeat(300)}`));
  t.match(long, { kind: 'error', error: { message: /… \(306 chars\)$/ } });
  t.equal(parseJsonLine(Buffer.from('  \r')), undefined);
});

t.test(
  'the line cap: exactly at the cap is fine, a \\r does not count, one byte over is an error',
  async (t) => {
    const at = `{"s":"${'a'.repeat(10)}"}`; // 18 bytes
    const reader = new JsonLineReader({ maxLineBytes: at.length });
    t.same(messages(reader.push(`${at}\r\n${at}\n`)), [{ s: 'a'.repeat(10) }, { s: 'a'.repeat(10) }]);
    const over = `{"s":"${'a'.repeat(11)}"}`;
    const items = reader.push(`${over}\n${at}\n`);
    t.same(messages(items), ['QMP_PROTOCOL', { s: 'a'.repeat(10) }]);
    t.match(items[0], {
      error: { message: 'received a line longer than 18 bytes (at least 19)', hint: /maxLineBytes/ },
    });
    // Held across chunks: a line ending in \r right at the cap waits for its \n instead of failing.
    t.same(reader.push(`${at}\r`), []);
    t.same(messages(reader.push('\n')), [{ s: 'a'.repeat(10) }]);
  },
);

t.test(
  'an over-long line spread over chunks is reported once, skipped to its end, then reading resumes',
  async (t) => {
    const reader = new JsonLineReader({ maxLineBytes: 8 });
    const first = reader.push('{"aaaaaaaa');
    t.same(messages(first), ['QMP_PROTOCOL'], 'reported as soon as the cap is passed');
    t.same(reader.push('bbbbbbbbbbbbbbbb'), [], 'not reported again');
    t.equal(reader.bufferedBytes, 0, 'nothing is buffered while skipping');
    t.same(messages(reader.push('cc"}\n{"k":1}\n')), [{ k: 1 }]);
    t.same(messages(reader.push('{"zzzzzzzzzz')), ['QMP_PROTOCOL']);
    t.same(reader.end(), [], 'end() while skipping yields nothing');
  },
);

t.test('end() parses an unterminated last line and resets', async (t) => {
  const reader = new JsonLineReader();
  t.same(reader.push('{"last":1}'), []);
  t.same(messages(reader.end()), [{ last: 1 }]);
  t.same(reader.end(), []);
  t.same(messages(reader.push(Buffer.from('{"again":2}\n'))), [{ again: 2 }]);
});

t.test('maxLineBytes must be a positive integer', async (t) => {
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    t.throws(() => new JsonLineReader({ maxLineBytes: bad }), {
      code: 'QMP_ARGUMENT',
      message: `Expected the \`maxLineBytes\` option to be a positive integer, got ${bad}`,
    });
  }
});
