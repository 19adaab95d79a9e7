import t from 'tap';
import { encodePathTable, pathTableSize } from '../../lib/cidata/iso-path-table.js';

const entries = [
  { id: Uint8Array.of(0), extent: 23, parent: 1 },
  { id: Buffer.from('DIR'), extent: 24, parent: 1 },
  { id: Buffer.from('SUB1'), extent: 0x01020304, parent: 2 },
];

t.test('L and M tables hold the same entries in both byte orders', async (t) => {
  t.equal(pathTableSize(entries), 10 + 12 + 12, 'odd identifiers are padded');
  const l = Buffer.from(encodePathTable(entries, 'L'));
  const m = Buffer.from(encodePathTable(entries, 'M'));
  t.same([...l.subarray(0, 10)], [1, 0, 23, 0, 0, 0, 1, 0, 0, 0]);
  t.same([...m.subarray(0, 10)], [1, 0, 0, 0, 0, 23, 0, 1, 0, 0]);
  t.equal(l.subarray(18, 21).toString(), 'DIR');
  t.equal(l[21], 0, 'pad byte');
  t.equal(l.readUInt32LE(24), 0x01020304);
  t.equal(m.readUInt32BE(24), 0x01020304);
  t.equal(l.readUInt16LE(28), 2);
  t.equal(m.readUInt16BE(28), 2);
});
