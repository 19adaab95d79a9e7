// An instance's base disk is checked again at every start, by the inspector import uses: one made before that
// check existed, or whose base was swapped since, never reaches QEMU.

import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath } from '../fixtures/guests.js';
import { instanceTempDir } from '../fixtures/instances.js';
import { rawDisk } from '../image/disks.js';
import { makeHostileImages } from '../image/hostile-images.js';

t.setTimeout(300_000);

const cli = (home: string, args: string[]) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });

t.test('a base disk swapped after create for a hostile one: start refuses it, QEMU never runs', async (t) => {
  const dir = instanceTempDir(t);
  const home = join(dir, 'home');
  const hostile = await makeHostileImages(join(dir, 'hostile'));
  const byName = (name: string) => hostile.images.find((image) => image.name === name)!;
  const base = join(dir, 'base.qcow2');

  for (const swapped of ['qcow2-data-file', 'qcow2-backing', 'vmdk-flat']) {
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
    const created = await cli(home, ['create', 'vm', '--image', base, '--accel', 'tcg']);
    t.equal(created.exitCode, 0, created.stderr);
    const instanceDir = join(home, 'instances', 'vm');
    copyFileSync(byName(swapped).path, base);

    const started = await cli(home, ['start', 'vm', '--wait', 'none', '--timeout', '20']);
    t.equal(started.exitCode, 1, `${swapped}: refused`);
    t.match(
      started.stderr,
      `qlaunch: instance vm was not started: its base disk ${base} is not a usable disk image`,
    );
    t.match(started.stderr, byName(swapped).problem, swapped);
    t.match(started.stderr, /remove the instance \(qlaunch rm vm\) and create it again from a good one/);
    t.notOk(existsSync(join(instanceDir, 'qemu.log')), `${swapped}: QEMU never ran`);
    t.notOk(existsSync(join(instanceDir, 'qemu.pid')), `${swapped}: no pid file`);
    const listed = JSON.parse((await cli(home, ['ls', '--json'])).stdout) as { state: string }[];
    t.match(listed, [{ state: 'stopped' }]);
    t.equal((await cli(home, ['rm', '--force', 'vm'])).exitCode, 0);
  }

  // Swapped for an acceptable disk of another format: the overlay would read it as the old one.
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '64M']);
  t.equal((await cli(home, ['create', 'vm', '--image', base, '--accel', 'tcg'])).exitCode, 0);
  writeFileSync(base, rawDisk());
  const started = await cli(home, ['start', 'vm', '--wait', 'none', '--timeout', '20']);
  t.equal(started.exitCode, 1);
  t.match(started.stderr, `its base disk ${base} is raw now, but was qcow2 when the instance was created`);
  t.notOk(existsSync(join(home, 'instances', 'vm', 'qemu.log')));
  t.equal((await cli(home, ['rm', '--force', 'vm'])).exitCode, 0);
});
