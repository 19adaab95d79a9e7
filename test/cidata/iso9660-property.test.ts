import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import fc from 'fast-check';
import t from 'tap';
import { buildIso9660 } from '../../lib/cidata/iso9660.js';
import { seedTreeArb } from './arbitraries.js';
import { bsdtarExtract, digest, osirroxExtract, saveImage, sha } from './readers.js';

t.setTimeout(60_000);

const DATE = new Date('2021-02-03T04:05:06Z');
const sortedDigests = (files: ReadonlyMap<string, Uint8Array>): string[] =>
  [...files.values()].map(sha).sort();

t.test('random trees read back byte for byte through Rock Ridge, Joliet and plain ISO 9660', async (t) => {
  const root = t.testdir();
  let run = 0;
  // Assertions throw so fast-check can shrink a failure to a small counterexample.
  await fc.assert(
    fc.asyncProperty(seedTreeArb({ fat: false }), async (files) => {
      const dir = `${root}/${run++}`;
      await mkdir(dir);
      const path = await saveImage(dir, 'seed.iso', buildIso9660(files, { date: DATE }));
      const want = digest(new Map(files.map((f) => [f.path, f.data as Uint8Array])));

      // Rock Ridge: exact names and bytes, through two independent readers.
      const tar = await bsdtarExtract(path, `${dir}/bsdtar`);
      assert.equal(tar.exitCode, 0, tar.stderr);
      assert.deepEqual(digest(tar.files), want);
      const rr = await osirroxExtract(path, `${dir}/rr`);
      assert.deepEqual(rr.complaints, []);
      assert.deepEqual(digest(rr.files), want);

      // Joliet and plain ISO 9660 rename, but keep every file and its bytes, within their own name rules.
      const joliet = await osirroxExtract(path, `${dir}/joliet`, 'joliet');
      assert.deepEqual(sortedDigests(joliet.files), sortedDigests(rr.files));
      for (const p of joliet.files.keys())
        assert.ok(
          p.split('/').every((c) => c.length <= 64),
          p,
        );
      const plain = await osirroxExtract(path, `${dir}/plain`, 'ecma119');
      assert.deepEqual(sortedDigests(plain.files), sortedDigests(rr.files));
      for (const p of plain.files.keys())
        assert.match(p, /^([A-Z0-9_]{1,8}\/)*[A-Z0-9_]{1,8}(\.[A-Z0-9_]{1,3})?$/);
      await rm(dir, { recursive: true, force: true });
    }),
    // A failure shrinks through real readers; stop shrinking in time to report the smallest case found.
    { numRuns: 20, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true },
  );
  t.pass('20 random trees round-tripped');
});
