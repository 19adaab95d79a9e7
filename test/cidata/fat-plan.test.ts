import t from 'tap';
import { chooseGeometry, clustersNeeded, planDir } from '../../lib/cidata/fat-plan.js';
import { allDirs, buildSeedTree } from '../../lib/cidata/seed-tree.js';

const plansFor = (paths: [string, number][]) =>
  allDirs(buildSeedTree(paths.map(([path, size]) => ({ path, data: new Uint8Array(size) })))).map((d, i) =>
    planDir(d, i === 0),
  );

t.test('entry counts: label or dot entries, short entries, LFN entries', async (t) => {
  const plans = plansFor([
    ['README', 1],
    ['user-data', 1],
    [`dir/${'x'.repeat(27)}`, 1],
  ]);
  t.equal(plans[0]!.entryCount, 1 + 1 + 2 + 2, 'label, README, user-data (+1 LFN), dir (+1 LFN)');
  t.equal(plans[1]!.entryCount, 2 + 1 + 3, '., .., the 27-character name (+3 LFN)');
});

t.test('automatic size: 1 MiB minimum, grows in whole MiB to fit', async (t) => {
  t.equal(chooseGeometry(plansFor([['a', 10]]), undefined).totalSectors, 2048);
  const big = plansFor([['big', 5 * 1024 * 1024]]);
  const g = chooseGeometry(big, undefined);
  t.equal(g.totalSectors % 2048, 0);
  t.ok(clustersNeeded(big, g) <= g.clusterCount);
  t.ok(g.totalSectors <= 2048 * 7, `not much larger than needed (${g.totalSectors} sectors)`);
});

t.test('limits', async (t) => {
  // 17 000 names of 31+ characters: 4 entries each, more than the 16-bit root entry count allows.
  const crowded = plansFor(
    Array.from({ length: 17_000 }, (_, i): [string, number] => [`${'n'.repeat(30)}${i}`, 0]),
  );
  t.throws(() => chooseGeometry(crowded, undefined), { code: 'SEED_TOO_LARGE', message: /root directory/ });
  t.throws(() => chooseGeometry(plansFor([['a', 1]]), 1024), { code: 'SEED_INVALID' }, 'under 64 KiB');
  const huge = plansFor([['a', 1]]);
  huge[0]!.node.children[0] = {
    ...huge[0]!.node.children[0]!,
    data: { length: 2 ** 31 } as Uint8Array,
  } as never;
  t.throws(() => chooseGeometry(huge, undefined), { code: 'SEED_TOO_LARGE', message: /FAT16/ });
});
