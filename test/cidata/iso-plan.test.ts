import t from 'tap';
import { buildHierarchy } from '../../lib/cidata/iso-hierarchy.js';
import { primaryIdentifiers } from '../../lib/cidata/iso-names.js';
import { planDirectories, rockRidge } from '../../lib/cidata/iso-plan.js';
import { buildSeedTree } from '../../lib/cidata/seed-tree.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');
const sigs = (entries: Uint8Array[]) => entries.map((e) => String.fromCharCode(e[0]!, e[1]!));

t.test('Rock Ridge planning: SP first on the root, ER and long names in the continuation area', async (t) => {
  const tree = buildSeedTree([
    { path: 'short', data: '' },
    { path: 'l'.repeat(255), data: '' },
    { path: 'dir/sub/f', data: '' },
  ]);
  const dirs = buildHierarchy(tree, primaryIdentifiers);
  const [root, dir] = planDirectories(dirs, latin1, rockRidge(new Date(0)));
  const [dot, dotdot, ...children] = root!;
  t.same(sigs(dot!.inline), ['SP', 'PX', 'TF'], 'SP leads the root record');
  t.same(sigs(dot!.continued), ['ER']);
  t.same(sigs(dotdot!.inline), ['PX', 'TF']);
  t.same(dotdot!.continued, []);
  const [dirRecord, longRecord, shortRecord] = children;
  t.same(sigs(shortRecord!.inline), ['PX', 'TF', 'NM']);
  t.same(sigs(longRecord!.inline), ['PX', 'TF']);
  t.same(sigs(longRecord!.continued), ['NM', 'NM']);
  t.equal(dirRecord!.target, dirs[1]);
  t.equal(Buffer.from(dirRecord!.inline[0]!).readUInt32LE(12), 3, 'dir links: itself, its ., and sub/..');
  for (const plan of [...root!, ...dir!]) {
    t.ok(plan.length <= 254 && plan.length % 2 === 0, `record length ${plan.length} even and at most 254`);
  }
  const plain = planDirectories(dirs, latin1, undefined);
  t.same(
    plain[0]!.map((p) => p.length),
    [34, 34, 36, 44, 42],
    'no system use without Rock Ridge',
  );
});
