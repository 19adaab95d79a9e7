import fc from 'fast-check';
import t from 'tap';
import { ErrorCode } from '../../../lib/errors.js';
import {
  checkSnapshotTag,
  hmpFailure,
  hmpQuote,
  MAX_TAG_BYTES,
  parseSnapshotList,
} from '../../../lib/guest/snapshot/snapshot-info.js';

t.test('tags: names only, never something QEMU could read as an id or split', async (t) => {
  for (const tag of [
    'base',
    'before-upgrade',
    'v1.2_rc',
    'é-ü',
    '1a',
    'a1',
    'q"uo\\te;x',
    'x'.repeat(MAX_TAG_BYTES),
  ]) {
    t.equal(checkSnapshotTag(tag), tag, tag);
  }
  const refused: [unknown, RegExp][] = [
    ['', /is empty/],
    [undefined, /is empty/],
    ['0', /all digits/],
    ['123', /all digits/],
    ['a b', /whitespace/],
    ['a\tb', /whitespace/],
    ['nl\n', /whitespace/],
    ['nul\u0000', /control/],
    ['del\u007f', /control/],
    ['nbsp\u00a0', /whitespace/],
    ['x'.repeat(MAX_TAG_BYTES + 1), /longer than 128 bytes/],
    ['é'.repeat(65), /longer than 128 bytes/],
  ];
  for (const [tag, why] of refused) {
    t.throws(
      () => checkSnapshotTag(tag),
      { code: ErrorCode.VM_SNAPSHOT_TAG_INVALID, message: why },
      JSON.stringify(tag),
    );
  }
});

t.test('the snapshot list as QMP and qemu-img give it', async (t) => {
  const raw = [
    {
      'vm-clock-nsec': 704815678,
      name: 'base',
      'date-sec': 1795686506,
      'date-nsec': 190461000,
      'vm-clock-sec': 2,
      id: '1',
      'vm-state-size': 76148192,
    },
    {
      name: 'disk-only',
      id: '2',
      'date-sec': 1795686600,
      'date-nsec': 0,
      'vm-clock-sec': 0,
      'vm-clock-nsec': 0,
    },
  ];
  t.same(parseSnapshotList(raw, 'disk0'), [
    {
      tag: 'base',
      id: '1',
      vmStateSize: 76148192,
      date: new Date(1795686506190),
      vmClock: 2_704_815_678,
    },
    { tag: 'disk-only', id: '2', vmStateSize: 0, date: new Date(1795686600000), vmClock: 0 },
  ]);
  t.same(parseSnapshotList(undefined, 'disk0'), [], 'an image without snapshots has no list at all');
  t.throws(() => parseSnapshotList({}, 'disk0'), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /disk0 is not an array/,
  });
  t.throws(() => parseSnapshotList([{ id: '1' }], 'x.qcow2'), {
    code: ErrorCode.VM_SNAPSHOT,
    message: /#0 of x.qcow2/,
  });
});

t.test('HMP quoting reads back as the same string under HMP rules', async (t) => {
  t.equal(hmpQuote('base'), '"base"');
  t.equal(hmpQuote('q"uo\\te'), '"q\\"uo\\\\te"');
  // HMP's get_str: inside quotes, \\ and \" are the only escapes a tag can need.
  const unquote = (text: string) => text.slice(1, -1).replace(/\\(.)/g, '$1');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (tag) => {
      const quoted = hmpQuote(tag);
      return unquote(quoted) === tag && !/(^|[^\\])(\\\\)*"/.test(quoted.slice(1, -1));
    }),
  );
});

t.test('HMP output: empty (or warnings only) is success, anything else the failure', async (t) => {
  t.equal(hmpFailure(''), undefined);
  t.equal(hmpFailure('\r\n'), undefined);
  t.equal(hmpFailure('warning: something odd\r\n'), undefined);
  t.equal(
    hmpFailure("Error: Snapshot 'nope' does not exist in one or more devices\r\n"),
    "Snapshot 'nope' does not exist in one or more devices",
  );
  t.equal(
    hmpFailure("Device 'sd0' is writable but does not support snapshots\r\n"),
    "Device 'sd0' is writable but does not support snapshots",
  );
  t.equal(hmpFailure('warning: w\r\nError: first\r\nsecond\r\n'), 'first; second');
});
