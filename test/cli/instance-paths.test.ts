// Instances under homes whose paths QEMU's option syntax could misread (commas, spaces, colons, unicode): they are
// seen running while QEMU runs, and `rm` never says it removed one whose QEMU still lives.

import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { alive, cliPath } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(300_000);

function cli(home: string) {
  return (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
}

const listed = (stdout: string) => JSON.parse(stdout) as { name: string; state: string; pid?: number }[];

t.test('a comma in QLAUNCH_HOME: ls sees it running, rm --force leaves no QEMU', async (t) => {
  const home = join(instanceTempDir(t), 'h,x');
  mkdirSync(home);
  const q = cli(home);
  const machine = await tinyMachineFile(home);
  t.equal((await q(['create', 'c', '--machine', machine, '--accel', 'tcg'])).exitCode, 0);
  const started = await q(['start', 'c', '--json']);
  t.equal(started.exitCode, 0, started.stderr);
  const { pid } = JSON.parse(started.stdout) as { pid: number };

  t.match(listed((await q(['ls', '--json'])).stdout), [{ name: 'c', state: 'running', pid }]);
  const rm = await q(['rm', '--force', 'c']);
  t.equal(rm.exitCode, 0, rm.stderr);
  t.notOk(alive(pid), 'the QEMU is gone');
  t.notOk(existsSync(join(home, 'instances', 'c')));
});

t.test('rm refuses while a QEMU it cannot account for still holds the instance', async (t) => {
  const home = instanceTempDir(t);
  const q = cli(home);
  const machine = await tinyMachineFile(home);
  t.equal((await q(['create', 'c', '--machine', machine, '--accel', 'tcg', '--start'])).exitCode, 0);
  const dir = join(home, 'instances', 'c');
  const pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8'));
  // What an older qlaunch's "crashed" clean-up did to a QEMU it failed to recognise: its records are gone.
  for (const file of ['qemu.pid', 'runtime.json']) await execa('rm', [join(dir, file)]);

  for (const args of [
    ['rm', 'c'],
    ['rm', '--force', 'c'],
    ['stop', 'c'],
  ]) {
    const refused = await q(args);
    t.equal(refused.exitCode, 1, `${args.join(' ')} fails`);
    t.match(
      refused.stderr,
      `qlaunch: cannot ${args[0] === 'rm' ? 'remove' : 'stop'} instance c: QEMU (pid ${pid})`,
    );
    t.match(refused.stderr, new RegExp(`\\n\\s+fix: .*\\(kill ${pid}\\)`));
    t.ok(existsSync(join(dir, 'instance.json')), 'the instance is kept');
    t.ok(alive(pid));
  }
  const start = await q(['start', 'c']);
  t.equal(start.exitCode, 1, 'no second QEMU on the same instance');
  t.match(start.stderr, `pid ${pid}`);

  process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  const rm = await q(['rm', 'c']);
  t.equal(rm.exitCode, 0, rm.stderr);
  t.notOk(existsSync(dir));
});

t.test(
  'a home renamed under a running instance: its QEMU is still found by the files it holds',
  async (t) => {
    const top = instanceTempDir(t);
    const before = join(top, 'a');
    const after = join(top, 'b: é');
    mkdirSync(before);
    const machine = await tinyMachineFile(top);
    const started = await cli(before)([
      'create',
      'c',
      '--machine',
      machine,
      '--accel',
      'tcg',
      '--start',
      '--json',
    ]);
    t.equal(started.exitCode, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    renameSync(before, after);

    const q = cli(after);
    t.match(listed((await q(['ls', '--json'])).stdout), [{ name: 'c', state: 'running', pid }]);
    const rm = await q(['rm', '--force', 'c']);
    t.equal(rm.exitCode, 0, rm.stderr);
    t.notOk(alive(pid));
    t.notOk(existsSync(join(after, 'instances', 'c')));
  },
);
