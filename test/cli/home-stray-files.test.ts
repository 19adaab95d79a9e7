// Files where qlaunch keeps directories (a stray file among instances or images, or instances/images themselves
// a file): listings show them, other commands keep working, and nothing the user made is ever deleted.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';
import { makeQcow2 } from '../image/disks.js';

t.setTimeout(180_000);

const cli = (home: string, args: string[]) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });

const FIX = /qlaunch does not delete files it did not make: .*move it elsewhere or delete it yourself/;

t.test('a stray file among instances: listed as damaged, refused by name, never removed', async (t) => {
  const home = shortTempDir(t);
  const stray = join(home, 'instances', 'somefile');
  mkdirSync(join(home, 'instances'));
  writeFileSync(stray, 'my notes\n');
  const machine = await tinyMachineFile(home);

  const created = await cli(home, ['create', 'box', '--machine', machine, '--accel', 'tcg']);
  t.equal(created.exitCode, 0, created.stderr);

  const json = await cli(home, ['ls', '--json']);
  t.equal(json.exitCode, 0, json.stderr);
  t.match(JSON.parse(json.stdout), [
    { name: 'box', state: 'stopped' },
    { name: 'somefile', error: `${stray} is a file, not a directory: qlaunch keeps instance somefile there` },
  ]);
  const table = await cli(home, ['ls']);
  t.match(table.stdout, /\nsomefile\s+damaged\s.*is a file, not a directory/);

  for (const args of [
    ['rm', 'somefile'],
    ['rm', '--force', 'somefile'],
    ['start', 'somefile'],
    ['inspect', 'somefile'],
  ]) {
    const refused = await cli(home, args);
    t.equal(refused.exitCode, 1, args.join(' '));
    t.match(
      refused.stderr,
      `qlaunch: ${stray} is a file, not a directory: qlaunch keeps instance somefile there`,
    );
    t.match(refused.stderr, FIX);
    t.match(refused.stderr, `(rm ${stray})`);
    t.notMatch(refused.stderr, /ENOTDIR|unexpected error/);
  }
  const again = await cli(home, ['create', 'somefile', '--machine', machine]);
  t.equal(again.exitCode, 1);
  t.match(again.stderr, 'is a file, not a directory');
  t.equal(readFileSync(stray, 'utf8'), 'my notes\n', 'the file is left as it was');

  const removed = await cli(home, ['rm', 'box']);
  t.equal(removed.exitCode, 0, removed.stderr);
});

t.test('instances or images being a file: an error naming the path and the fix', async (t) => {
  const home = shortTempDir(t);
  writeFileSync(join(home, 'instances'), 'x');
  writeFileSync(join(home, 'images'), 'y');
  const machine = await tinyMachineFile(home);
  const disk = await makeQcow2(home, 'small.qcow2', 1);

  const instancesIs = `${join(home, 'instances')} is a file, not a directory: qlaunch keeps its instances there`;
  for (const args of [['ls'], ['create', 'box', '--machine', machine], ['rm', 'box']]) {
    const run = await cli(home, args);
    t.equal(run.exitCode, 1, args.join(' '));
    t.match(run.stderr, instancesIs, args.join(' '));
    t.match(run.stderr, /set QLAUNCH_HOME to another directory/);
    t.notMatch(run.stderr, /EEXIST|ENOTDIR|unexpected error/);
  }
  const imagesIs = `${join(home, 'images')} is a file, not a directory: qlaunch keeps its images there`;
  for (const args of [
    ['image', 'ls'],
    ['image', 'import', disk, '--name', 'small'],
  ]) {
    const run = await cli(home, args);
    t.equal(run.exitCode, 1, args.join(' '));
    t.match(run.stderr, imagesIs, args.join(' '));
    t.match(run.stderr, FIX);
    t.notMatch(run.stderr, /already in|check its permissions/);
  }
  t.equal(readFileSync(join(home, 'instances'), 'utf8'), 'x');
  t.equal(readFileSync(join(home, 'images'), 'utf8'), 'y');

  // A file where one image's directory belongs is named too, not taken for an image of that name.
  const other = shortTempDir(t);
  mkdirSync(join(other, 'images'));
  writeFileSync(join(other, 'images', 'small'), 'z');
  const imported = await cli(other, ['image', 'import', disk, '--name', 'small']);
  t.equal(imported.exitCode, 1);
  t.match(
    imported.stderr,
    `${join(other, 'images', 'small')} is a file, not a directory: qlaunch keeps image small`,
  );
  t.notMatch(imported.stderr, /already in/);
  t.ok(existsSync(join(other, 'images', 'small')));
});
