import t from 'tap';
import {
  CE_LENGTH,
  ceEntry,
  erEntry,
  joinEntries,
  nmEntries,
  pxEntry,
  S_IFREG,
  spEntry,
  splitSystemUse,
  tfEntry,
} from '../../lib/cidata/rock-ridge.js';

const sig = (e: Uint8Array): string => String.fromCharCode(e[0]!, e[1]!);

t.test('SUSP entries', async (t) => {
  t.same([...spEntry()], [0x53, 0x50, 7, 1, 0xbe, 0xef, 0]);
  const ce = ceEntry(30, 100, 270);
  t.equal(ce.length, CE_LENGTH);
  t.equal(ce[2], 28);
  t.equal(Buffer.from(ce).readUInt32LE(4), 30);
  t.equal(Buffer.from(ce).readUInt32BE(8), 30);
  t.equal(Buffer.from(ce).readUInt32LE(12), 100);
  t.equal(Buffer.from(ce).readUInt32LE(20), 270);
  const er = erEntry();
  t.equal(sig(er), 'ER');
  t.equal(er[2], er.length);
  t.same([er[4], er[5], er[6], er[7]], [10, 84, 135, 1]);
  t.equal(Buffer.from(er.subarray(8, 18)).toString(), 'RRIP_1991A');
});

t.test('RRIP entries', async (t) => {
  const px = pxEntry(S_IFREG | 0o644, 1);
  t.equal(px.length, 36, 'RRIP 1.10 PX: no inode number');
  t.equal(Buffer.from(px).readUInt32LE(4), 0o100644);
  t.equal(Buffer.from(px).readUInt32BE(8), 0o100644);
  t.equal(Buffer.from(px).readUInt32LE(12), 1);
  const tf = tfEntry(new Date('2024-05-06T07:08:09Z'));
  t.equal(tf.length, 26);
  t.equal(tf[4], 0x0e, 'modify, access, attributes');
  t.same([...tf.subarray(5, 12)], [124, 5, 6, 7, 8, 9, 0]);
});

t.test('NM splits names over entries of at most 255 bytes with CONTINUE', async (t) => {
  const short = nmEntries(Buffer.from('user-data'));
  t.equal(short.length, 1);
  t.same([...short[0]!.subarray(0, 5)], [0x4e, 0x4d, 14, 1, 0]);
  const long = nmEntries(Buffer.from('x'.repeat(255)));
  t.same(
    long.map((e) => e.length),
    [255, 10],
  );
  t.same(
    long.map((e) => e[4]),
    [1, 0],
    'first continues, last ends',
  );
  t.equal(Buffer.concat(long.map((e) => e.subarray(5))).toString(), 'x'.repeat(255));
  t.same(
    nmEntries(Buffer.from('y'.repeat(250))).map((e) => e.length),
    [255],
  );
});

t.test('splitting system use between the record and a continuation area', async (t) => {
  const a = new Uint8Array(40);
  const b = new Uint8Array(100);
  const c = new Uint8Array(100);
  t.same(splitSystemUse([a, b], 140), { inline: [a, b], continued: [] }, 'all fit');
  t.same(splitSystemUse([a, b, c], 200), { inline: [a, b], continued: [c] }, 'room left for CE');
  t.same(splitSystemUse([a, b, c], 150), { inline: [a], continued: [b, c] });
  t.same(splitSystemUse([b], 50), { inline: [], continued: [b] });
  t.same([...joinEntries([Uint8Array.of(1), Uint8Array.of(2, 3)])], [1, 2, 3]);
});
