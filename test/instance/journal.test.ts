import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { openJournal } from '../../lib/instance/journal.js';
import { shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

/** The descriptors this process holds open on `path`. */
const openOn = (path: string): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;

t.test('a journal writes whole lines, closes its file, and drops what comes after', async (t) => {
  const path = join(t.testdir(), 'qlaunch.log');
  const journal = await openJournal(path, 'box');
  journal.logger.info({ op: 'start' }, 'instance started');
  t.equal(openOn(path), 1);
  await journal.close();
  t.equal(openOn(path), 0, 'the file is closed');
  t.doesNotThrow(() => journal.logger.warn({}, 'late'), 'a late line is dropped, not thrown');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  t.equal(lines.length, 1);
  t.match(JSON.parse(lines[0] ?? '{}'), { instance: 'box', op: 'start', msg: 'instance started' });
});

t.test('instance operations leave no descriptor open on the journal', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root);
  const box = await Instance.create({ name: 'box', machine, accel: 'tcg' }, { root });
  for (let i = 0; i < 5; i++) await box.stop();
  t.equal(openOn(box.paths.log), 0, 'create and five stops: no descriptor left');
  t.match(readFileSync(box.paths.log, 'utf8'), /"msg":"created"/);
});
