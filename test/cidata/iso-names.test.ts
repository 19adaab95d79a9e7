import t from 'tap';
import { compareIdentifiers, comparePadded, primaryIdentifiers } from '../../lib/cidata/iso-names.js';

const files = (...names: string[]) => names.map((name) => ({ kind: 'file' as const, name }));
const ids = (children: { kind: 'file' | 'dir'; name: string }[]) =>
  primaryIdentifiers(children).map((i) => i.id);

t.test('level 1 names: upper-case d-characters, 8.3, version ;1', async (t) => {
  t.same(ids(files('user-data', 'meta-data', 'a.b.c', 'README', '.hidden', 'x.toolong')), [
    'USER_DAT.;1',
    'META_DAT.;1',
    'A_B.C;1',
    'README.;1',
    '_.HID;1',
    'X.TOO;1',
  ]);
  t.same(
    ids([
      { kind: 'dir', name: 'scripts.d' },
      { kind: 'dir', name: 'a-very-long-dir' },
    ]),
    ['SCRIPTS_', 'A_VERY_L'],
  );
  t.same(ids(files('日本.txt')), ['__.TXT;1'], 'non-ASCII becomes _');
});

t.test('collisions are numbered and every identifier stays unique', async (t) => {
  t.same(ids(files('user-data', 'user-data-1', 'user_dat')), ['USER_DAT.;1', 'USER_DA1.;1', 'USER_DA2.;1']);
  const many = ids(files(...Array.from({ length: 120 }, (_, i) => `same-prefix-${i}`)));
  t.equal(new Set(many).size, 120);
  t.ok(many.every((id) => /^[A-Z0-9_]{1,8}\.;1$/.test(id)));
  t.equal(many[11], 'SAME_P11.;1');
  t.equal(many[100], 'SAME_100.;1');
  // A directory 'A' and a file 'a' (A.;1) would both read as 'A' without extensions.
  t.same(
    ids([
      { kind: 'dir', name: 'a' },
      { kind: 'file', name: 'a' },
    ]),
    ['A', 'A1.;1'],
  );
  t.same(ids(files('a.txt', 'a.doc')), ['A.TXT;1', 'A.DOC;1'], 'same name, other extension: no clash');
});

t.test('ECMA-119 9.3 ordering pads with spaces', async (t) => {
  t.ok(comparePadded('AB', 'AB ') === 0);
  t.ok(comparePadded('A', 'A_') < 0, 'space sorts before _');
  t.ok(comparePadded('B', 'A9') > 0);
  const [a, b] = primaryIdentifiers(files('ab.c', 'a.cd'));
  t.ok(compareIdentifiers(b!, a!) < 0, "name part first: 'A' before 'AB'");
  const [x, y] = primaryIdentifiers(files('a.b', 'a.c'));
  t.ok(compareIdentifiers(x!, y!) < 0, 'then the extension');
});
