import t from 'tap';
import { ATTR_ARCHIVE, dosStamp, shortEntry } from '../../lib/cidata/fat-entries.js';

t.test('DOS date and time', async (t) => {
  const s = dosStamp(new Date('2024-05-06T07:08:09.120Z'));
  t.equal(s.date, (44 << 9) | (5 << 5) | 6);
  t.equal(s.time, (7 << 11) | (8 << 5) | 4);
  t.equal(s.tenths, 112, 'odd second and 120 ms');
  t.same(dosStamp(new Date(0)), { date: (1 << 5) | 1, time: 0, tenths: 0 }, '1970 is clamped to 1980-01-01');
  const late = dosStamp(new Date('2200-01-01T00:00:00Z'));
  t.equal(late.date >> 9, 127, 'clamped to 2107');
});

t.test('short entry layout', async (t) => {
  const stamp = dosStamp(new Date('2024-05-06T07:08:10Z'));
  const e = Buffer.from(
    shortEntry({ name: 'USER-D~1   ', attr: ATTR_ARCHIVE, cluster: 0x1234, size: 70000, stamp }),
  );
  t.equal(e.length, 32);
  t.equal(e.subarray(0, 11).toString(), 'USER-D~1   ');
  t.equal(e[11], 0x20);
  t.equal(e.readUInt16LE(14), stamp.time);
  t.equal(e.readUInt16LE(16), stamp.date);
  t.equal(e.readUInt16LE(18), stamp.date);
  t.equal(e.readUInt16LE(20), 0);
  t.equal(e.readUInt16LE(22), stamp.time);
  t.equal(e.readUInt16LE(24), stamp.date);
  t.equal(e.readUInt16LE(26), 0x1234);
  t.equal(e.readUInt32LE(28), 70000);
});
