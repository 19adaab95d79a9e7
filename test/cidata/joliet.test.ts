import t from 'tap';
import { JOLIET_ESCAPE, jolietIdentifiers, ucs2BE } from '../../lib/cidata/joliet.js';

const files = (...names: string[]) => names.map((name) => ({ kind: 'file' as const, name }));
const ids = (...names: string[]) => jolietIdentifiers(files(...names)).map((i) => i.id);

t.test('names are kept, except characters Joliet forbids', async (t) => {
  t.same(ids('user-data', 'Mixed Case.yaml', 'é日'), ['user-data', 'Mixed Case.yaml', 'é日']);
  t.same(ids('a*b', 'c:d;e', 'f?g\\h', 'smile😀'), ['a_b', 'c_d_e', 'f_g_h', 'smile_']);
  t.same([...JOLIET_ESCAPE], [0x25, 0x2f, 0x45], '%/E: UCS-2 level 3');
});

t.test('long names are cut to 64 characters, keeping a short extension', async (t) => {
  const [cut] = ids(`${'x'.repeat(100)}.yaml`);
  t.equal(cut, `${'x'.repeat(59)}.yaml`);
  t.equal(ids('y'.repeat(100))[0], 'y'.repeat(64));
  t.equal(ids(`${'z'.repeat(70)}.${'e'.repeat(20)}`)[0], 'z'.repeat(64), 'a long extension is not kept');
  const dir = jolietIdentifiers([{ kind: 'dir', name: `${'d'.repeat(70)}.yaml` }]);
  t.equal(dir[0]!.id, 'd'.repeat(64), 'directories have no extension');
});

t.test('collisions after mapping are numbered; identifiers stay unique', async (t) => {
  t.same(ids('a*b', 'a?b', 'a_b'), ['a_b', 'a_b~1', 'a_b~2']);
  const long = ids(...Array.from({ length: 15 }, (_, i) => `${'n'.repeat(80)}${i}.cfg`));
  t.equal(new Set(long).size, 15);
  t.ok(long.every((id) => id.length <= 64 && id.endsWith('.cfg')));
  t.equal(long[12], `${'n'.repeat(57)}~12.cfg`);
  const [first] = jolietIdentifiers(files('name.ext'));
  t.same(first, { id: 'name.ext', name: 'name', ext: 'ext' });
});

t.test('UCS-2 big-endian', async (t) => {
  t.same([...ucs2BE('aé')], [0x00, 0x61, 0x00, 0xe9]);
});
