import { existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createRunDir, runBaseDir, sweepStaleRunDirs } from '../../lib/guest/run-dir.js';

t.test('run dirs are private, owned, and swept once their owner is gone', async (t) => {
  const base = t.testdir();
  const dir = await createRunDir(base);
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(Number(readOwner(dir)), process.pid);
  // A dead owner (pid far above any real one), a young dir without owner, an old dir without owner.
  const dead = join(base, 'qlaunch-run-dead');
  mkdirSync(dead);
  writeFileSync(join(dead, 'owner.pid'), '999999999');
  const young = join(base, 'qlaunch-run-young');
  mkdirSync(young);
  const old = join(base, 'qlaunch-run-old');
  mkdirSync(old);
  utimesSync(old, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  const other = join(base, 'unrelated');
  mkdirSync(other);
  const removed = await sweepStaleRunDirs(base);
  t.same(removed.sort(), [dead, old].sort());
  t.ok(existsSync(dir), 'a live owner keeps its dir');
  t.ok(existsSync(young), 'a dir still being set up is left alone');
  t.ok(existsSync(other), 'only run dirs are touched');
  t.same(await sweepStaleRunDirs(join(base, 'missing')), []);
});

t.test('the base is XDG_RUNTIME_DIR/qlaunch when set', async (t) => {
  t.equal(runBaseDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/qlaunch');
  t.not(runBaseDir({}), '/qlaunch');
});

function readOwner(dir: string): string {
  return readFileSync(join(dir, 'owner.pid'), 'utf8');
}
