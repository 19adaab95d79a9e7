import t from 'tap';
import {
  encodeRecord,
  packedSectors,
  packRecords,
  recordBaseLength,
  SECTOR,
} from '../../lib/cidata/iso-records.js';

t.test('record layout', async (t) => {
  t.equal(recordBaseLength(1), 34, "'.' and '..' records");
  t.equal(recordBaseLength(11), 44);
  t.equal(recordBaseLength(12), 46, 'even identifiers get a pad byte');
  const r = encodeRecord({
    id: Buffer.from('USER_DAT.;1'),
    extent: 23,
    size: 2049,
    isDir: false,
    date: Uint8Array.of(124, 5, 6, 7, 8, 9, 0),
    systemUse: Uint8Array.of(1, 2, 3),
  });
  t.equal(r.length, 48, '44 + 3 system use bytes + 1 to stay even');
  t.equal(r[0], 48);
  const b = Buffer.from(r);
  t.equal(b.readUInt32LE(2), 23);
  t.equal(b.readUInt32BE(6), 23);
  t.equal(b.readUInt32LE(10), 2049);
  t.equal(b.readUInt32BE(14), 2049);
  t.same([...r.subarray(18, 25)], [124, 5, 6, 7, 8, 9, 0]);
  t.equal(r[25], 0, 'file flags');
  t.equal(b.readUInt16LE(28), 1, 'volume sequence number');
  t.equal(r[32], 11);
  t.equal(b.subarray(33, 44).toString(), 'USER_DAT.;1');
  t.same([...r.subarray(44, 48)], [1, 2, 3, 0]);
  const dir = encodeRecord({
    id: Uint8Array.of(0),
    extent: 1,
    size: SECTOR,
    isDir: true,
    date: new Uint8Array(7),
  });
  t.equal(dir.length, 34);
  t.equal(dir[25], 2, 'directory flag');
});

t.test('records never cross a sector boundary', async (t) => {
  t.equal(packedSectors([]), 1, 'a directory takes at least one sector');
  t.equal(packedSectors([1024, 1024]), 1);
  t.equal(packedSectors([1024, 1024, 2]), 2);
  t.equal(packedSectors([1000, 1000, 100]), 2, '2100 bytes; the third record moves on');
  const records = [1000, 1000, 100].map((n, i) => new Uint8Array(n).fill(i + 1));
  const packed = packRecords(records);
  t.equal(packed.length, 2 * SECTOR);
  t.equal(packed[1999], 2);
  t.equal(packed[2000], 0, 'zero tail in the first sector');
  t.equal(packed[SECTOR], 3, 'third record starts the second sector');
});
