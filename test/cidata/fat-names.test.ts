import t from 'tap';
import { fatNames, lfnEntries, lfnEntryCount, shortNameChecksum } from '../../lib/cidata/fat-names.js';

const shorts = (...names: string[]) => fatNames(names).map((n) => `${n.short}|${n.needsLfn ? 'lfn' : ''}`);

t.test('basis names and numeric tails (fatgen103)', async (t) => {
  t.same(shorts('user-data', 'meta-data', 'network-config', 'vendor-data'), [
    'USER-D~1   |lfn',
    'META-D~1   |lfn',
    'NETWOR~1   |lfn',
    'VENDOR~1   |lfn',
  ]);
  t.same(shorts('README', 'FOO.TXT', 'foo.txt2'), ['README     |', 'FOO     TXT|', 'FOO~1   TXT|lfn']);
  t.same(shorts('readme'), ['README     |lfn'], 'fits 8.3 but lower case: LFN keeps the case');
  t.same(shorts('.hidden', 'a b.c', 'x.tar.gz', 'a+b,c;d=e[f]'), [
    'HIDDEN~1   |lfn',
    'AB~1    C  |lfn',
    'X~1     GZ |lfn',
    'A_B_C_~1   |lfn',
  ]);
  t.same(shorts('é.txt'), ['_~1     TXT|lfn'], 'non-ASCII is lossy');
});

t.test('tails stay unique, and real 8.3 names keep theirs', async (t) => {
  t.same(shorts('user-data', 'user-data-1', 'USER-D~1', 'user-data-2'), [
    'USER-D~2   |lfn',
    'USER-D~3   |lfn',
    'USER-D~1   |',
    'USER-D~4   |lfn',
  ]);
  const many = fatNames(Array.from({ length: 150 }, (_, i) => `config-fragment-${i}.yaml`));
  t.equal(new Set(many.map((n) => n.short)).size, 150);
  t.equal(many[9]!.short, 'CONFI~10YAM');
  t.equal(many[120]!.short, 'CONF~121YAM');
});

t.test('checksums match mkfs.fat/mtools (from a cloud-localds image)', async (t) => {
  t.equal(shortNameChecksum('USER-D~1   '), 0xb0);
  t.equal(shortNameChecksum('META-D~1   '), 0xd4);
});

t.test('LFN entries: 13 UTF-16 units each, last first, terminated and padded', async (t) => {
  t.equal(lfnEntryCount('user-data'), 1);
  t.equal(lfnEntryCount('x'.repeat(13)), 1);
  t.equal(lfnEntryCount('x'.repeat(14)), 2);
  const [only] = lfnEntries('user-data', 'USER-D~1   ');
  t.same(
    [...only!],
    [
      0x41, 0x75, 0, 0x73, 0, 0x65, 0, 0x72, 0, 0x2d, 0, 0x0f, 0, 0xb0, 0x64, 0, 0x61, 0, 0x74, 0, 0x61, 0, 0,
      0, 0xff, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff,
    ],
    'byte for byte what mkfs.fat + mcopy wrote for user-data',
  );
  const long = lfnEntries('abcdefghijklmnopqrstuvwxyz', 'ABCDEF~1   ');
  t.same(
    long.map((e) => e[0]),
    [0x42, 0x01],
    'ordinal 2 (last, 0x40) first',
  );
  t.same([...long[0]!.subarray(1, 3)], [0x6e, 0], "second entry starts at 'n'");
  t.same([...long[0]!.subarray(28, 32)], [0x79, 0, 0x7a, 0], 'exactly 26 units: no terminator');
  const emoji = lfnEntries('😀', '_~1        ');
  t.same([...emoji[0]!.subarray(1, 7)], [0x3d, 0xd8, 0x00, 0xde, 0, 0], 'surrogate pair, then terminator');
});
