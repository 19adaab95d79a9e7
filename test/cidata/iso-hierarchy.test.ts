import t from 'tap';
import { buildHierarchy } from '../../lib/cidata/iso-hierarchy.js';
import { primaryIdentifiers } from '../../lib/cidata/iso-names.js';
import { buildSeedTree } from '../../lib/cidata/seed-tree.js';

t.test('directories come in path-table order: level, parent number, identifier', async (t) => {
  const tree = buildSeedTree(
    ['z/b/f', 'z/a/f', 'a/z/f', 'a/y/deeper/f', 'top'].map((path) => ({ path, data: '' })),
  );
  const dirs = buildHierarchy(tree, primaryIdentifiers);
  t.same(
    dirs.map((d) => [d.number, d.ident.id, d.parent]),
    [
      [1, '\0', 1],
      [2, 'A', 1],
      [3, 'Z', 1],
      [4, 'Y', 2],
      [5, 'Z', 2],
      [6, 'A', 3],
      [7, 'B', 3],
      [8, 'DEEPER', 4],
    ],
  );
  t.same(
    dirs[0]!.entries.map((e) => e.ident.id),
    ['A', 'TOP.;1', 'Z'],
    'entries sorted by identifier',
  );
  t.equal(dirs[0]!.entries[0]!.dir, dirs[1], 'directory entries link to their hierarchy node');
  t.equal(dirs[0]!.entries[1]!.dir, undefined);
});
