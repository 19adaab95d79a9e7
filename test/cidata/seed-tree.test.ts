import t from 'tap';
import { allDirs, buildSeedTree, seedBytes } from '../../lib/cidata/seed-tree.js';

t.test('builds a sorted tree with implied directories', async (t) => {
  const tree = buildSeedTree([
    { path: 'b/y', data: 'y' },
    { path: 'a', data: Uint8Array.of(1) },
    { path: 'b/x/z', data: '' },
  ]);
  t.same(
    tree.children.map((c) => [c.kind, c.name, c.path]),
    [
      ['file', 'a', 'a'],
      ['dir', 'b', 'b'],
    ],
  );
  t.same(
    allDirs(tree).map((d) => d.path),
    ['', 'b', 'b/x'],
  );
  const b = tree.children[1]!;
  t.same(b.kind === 'dir' && b.children.map((c) => c.name), ['x', 'y']);
  t.same([...seedBytes('é')], [0xc3, 0xa9], 'strings are UTF-8');
});

t.test('a custom name rule and a case-insensitive key', async (t) => {
  const nameRule = (name: string) => (name.includes('!') ? 'no bangs' : undefined);
  t.throws(() => buildSeedTree([{ path: 'a/b!', data: '' }], { nameRule }), {
    code: 'SEED_INVALID',
    message: /"a\/b!" is invalid: no bangs/,
  });
  const nameKey = (name: string) => name.toUpperCase();
  t.throws(
    () =>
      buildSeedTree(
        [
          { path: 'A/x', data: '' },
          { path: 'a/y', data: '' },
        ],
        { nameKey },
      ),
    {
      code: 'SEED_INVALID',
      message: /"a" clashes with "A"/,
    },
  );
  t.equal(
    buildSeedTree([
      { path: 'A/x', data: '' },
      { path: 'a/y', data: '' },
    ]).children.length,
    2,
  );
  t.throws(() => buildSeedTree([{ path: 7 as unknown as string, data: '' }]), { code: 'SEED_INVALID' });
});

t.test('more than 4 GiB in one file is SEED_TOO_LARGE', async (t) => {
  const huge = { length: 2 ** 32, constructor: Uint8Array } as unknown as Uint8Array;
  Object.setPrototypeOf(huge, Uint8Array.prototype);
  t.throws(() => buildSeedTree([{ path: 'big', data: huge }]), { code: 'SEED_TOO_LARGE' });
});
