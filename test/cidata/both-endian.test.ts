import t from 'tap';
import {
  putAscii,
  putBoth16,
  putBoth32,
  putU16BE,
  putU16LE,
  putU32BE,
  putU32LE,
  putUcs2BE,
} from '../../lib/cidata/both-endian.js';

const bytes = (n: number, write: (b: Uint8Array) => void): number[] => {
  const b = new Uint8Array(n);
  write(b);
  return [...b];
};

t.test('fixed-endian integers', async (t) => {
  t.same(
    bytes(2, (b) => putU16LE(b, 0, 0x1234)),
    [0x34, 0x12],
  );
  t.same(
    bytes(2, (b) => putU16BE(b, 0, 0x1234)),
    [0x12, 0x34],
  );
  t.same(
    bytes(4, (b) => putU32LE(b, 0, 0xdeadbeef)),
    [0xef, 0xbe, 0xad, 0xde],
  );
  t.same(
    bytes(4, (b) => putU32BE(b, 0, 0xdeadbeef)),
    [0xde, 0xad, 0xbe, 0xef],
  );
});

t.test('both-endian fields: little-endian half, then big-endian half', async (t) => {
  t.same(
    bytes(4, (b) => putBoth16(b, 0, 2048)),
    [0x00, 0x08, 0x08, 0x00],
  );
  t.same(
    bytes(8, (b) => putBoth32(b, 0, 0x01020304)),
    [4, 3, 2, 1, 1, 2, 3, 4],
  );
  t.same(
    bytes(10, (b) => putBoth32(b, 2, 0xffffffff)),
    [0, 0, 255, 255, 255, 255, 255, 255, 255, 255],
  );
});

t.test('padded text fields', async (t) => {
  t.same(
    bytes(6, (b) => putAscii(b, 0, 6, 'abc')),
    [0x61, 0x62, 0x63, 0x20, 0x20, 0x20],
  );
  t.same(
    bytes(3, (b) => putAscii(b, 0, 3, 'abcdef')),
    [0x61, 0x62, 0x63],
    'cut to the field',
  );
  t.same(
    bytes(3, (b) => putAscii(b, 0, 3, '', 0x30)),
    [0x30, 0x30, 0x30],
  );
  t.same(
    bytes(6, (b) => putUcs2BE(b, 0, 6, 'é')),
    [0x00, 0xe9, 0x00, 0x20, 0x00, 0x20],
  );
  t.same(
    bytes(5, (b) => putUcs2BE(b, 0, 5, 'ab')),
    [0x00, 0x61, 0x00, 0x62, 0x00],
    'odd field ends in a zero byte',
  );
});
