import t from 'tap';
import { decDateTime, recordDateTime, unsetDecDateTime } from '../../lib/cidata/iso-dates.js';

const text = (b: Uint8Array): string => Buffer.from(b.subarray(0, 16)).toString('latin1');

t.test('17-byte descriptor dates', async (t) => {
  const d = decDateTime(new Date('2024-05-06T07:08:09.123Z'));
  t.equal(d.length, 17);
  t.equal(text(d), '2024050607080912');
  t.equal(d[16], 0, 'UTC');
  t.equal(text(unsetDecDateTime()), '0000000000000000');
  t.equal(unsetDecDateTime()[16], 0);
  t.equal(text(decDateTime(new Date('1970-01-01T00:00:00Z'))), '1970010100000000');
  const far = new Date(0);
  far.setUTCFullYear(12000);
  t.equal(text(decDateTime(far)), '9999123123595999', 'clamped to year 9999');
  const early = new Date(0);
  early.setUTCFullYear(-5);
  t.equal(text(decDateTime(early)), '0001010100000000', 'clamped to year 1');
});

t.test('7-byte record dates', async (t) => {
  t.same([...recordDateTime(new Date('2024-05-06T07:08:09Z'))], [124, 5, 6, 7, 8, 9, 0]);
  t.same([...recordDateTime(new Date('1850-01-01T00:00:00Z'))], [0, 1, 1, 0, 0, 0, 0], 'clamped to 1900');
  t.same(
    [...recordDateTime(new Date('2200-01-01T00:00:00Z'))],
    [255, 12, 31, 23, 59, 59, 0],
    'clamped to 2155',
  );
});
