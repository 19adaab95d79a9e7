import t from 'tap';
import { FatTable } from '../../lib/cidata/fat-table.js';

t.test('FAT12 packs two entries in three bytes', async (t) => {
  const table = new FatTable(12, 10);
  table.chain(2, 3); // 2 -> 3 -> 4 -> end
  table.chain(5, 1);
  table.chain(6, 0);
  const out = new Uint8Array(18);
  table.encodeInto(out);
  // Entries: FF8 FFF 003 004 FFF FFF 000 ...
  t.same([...out.subarray(0, 10)], [0xf8, 0xff, 0xff, 0x03, 0x40, 0x00, 0xff, 0xff, 0xff, 0x00]);
});

t.test('FAT16 entries are little-endian words', async (t) => {
  const table = new FatTable(16, 5000);
  table.chain(2, 2);
  const out = new Uint8Array(10);
  table.encodeInto(out);
  t.same([...out], [0xf8, 0xff, 0xff, 0xff, 0x03, 0x00, 0xff, 0xff, 0x00, 0x00]);
});
