// `run --kernel K --disk FILE`: the extra disk goes through the format inspector `image import` uses, so a qcow2
// naming a backing or data file (or a vmdk) never reaches QEMU.

import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, tinyGuest } from '../fixtures/guests.js';
import { instanceTempDir } from '../fixtures/instances.js';
import { makeHostileImages } from '../image/hostile-images.js';

t.setTimeout(300_000);

t.test('a hostile --disk beside a kernel is refused before QEMU runs', async (t) => {
  const dir = instanceTempDir(t);
  const guest = await tinyGuest('x86_64');
  const hostile = await makeHostileImages(join(dir, 'hostile'));
  for (const name of ['qcow2-data-file', 'qcow2-backing', 'vmdk-flat']) {
    const image = hostile.images.find((i) => i.name === name)!;
    const run = await execa(
      process.execPath,
      [
        cliPath,
        'run',
        '--kernel',
        guest.kernel,
        '--initrd',
        guest.initrd,
        '--append',
        guest.append,
        '--disk',
        image.path,
        '--accel',
        'tcg',
        '--timeout',
        '20',
      ],
      { reject: false, env: { ...process.env, TMPDIR: dir } },
    );
    t.equal(run.exitCode, 1, `${name}: refused`);
    t.match(run.stderr, `qlaunch: ${image.path} is not a usable disk image`, name);
    t.match(run.stderr, image.problem, name);
    t.match(run.stderr, /convert it to a self-contained qcow2/, `${name}: the fix`);
    t.equal(run.stdout, '', `${name}: no console, QEMU never ran`);
  }
});
