import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import fc from 'fast-check';
import t from 'tap';
import { buildFat } from '../../lib/cidata/fat.js';
import { seedTreeArb } from './arbitraries.js';
import { digest, fsckVfat, mcopyExtract, saveImage } from './readers.js';

t.setTimeout(60_000);

const DATE = new Date('2021-02-03T04:05:06Z');

t.test('random trees pass fsck.vfat and read back byte for byte through mtools', async (t) => {
  const root = t.testdir();
  let run = 0;
  // Assertions throw so fast-check can shrink a failure to a small counterexample.
  await fc.assert(
    fc.asyncProperty(seedTreeArb({ fat: true }), async (files) => {
      const dir = `${root}/${run++}`;
      await mkdir(dir);
      const path = await saveImage(dir, 'seed.img', buildFat(files, { date: DATE }));
      const fsck = await fsckVfat(path);
      assert.equal(fsck.exitCode, 0, fsck.output);
      assert.doesNotMatch(fsck.output, /differ|error|invalid|bad|lost/i);
      const copy = await mcopyExtract(path, `${dir}/out`);
      assert.equal(copy.exitCode, 0, copy.stderr);
      assert.deepEqual(digest(copy.files), digest(new Map(files.map((f) => [f.path, f.data as Uint8Array]))));
      await rm(dir, { recursive: true, force: true });
    }),
    // A failure shrinks through real readers; stop shrinking in time to report the smallest case found.
    { numRuns: 25, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true },
  );
  t.pass('25 random trees round-tripped');
});
