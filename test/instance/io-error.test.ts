// A guest paused on a disk I/O error (its overlay's filesystem full) ends the readiness wait at once, with the
// reason and the fix, instead of waiting out the timeout; `ls` says paused (io-error).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { testHome } from '../fixtures/guests.js';

t.setTimeout(900_000);

t.test('the overlay filesystem fills during boot: start fails with VM_IO_ERROR naming the fix', async (t) => {
  const saved = process.env['QLAUNCH_HOME'];
  process.env['QLAUNCH_HOME'] = await testHome();
  t.teardown(() => {
    if (saved === undefined) delete process.env['QLAUNCH_HOME'];
    else process.env['QLAUNCH_HOME'] = saved;
  });
  // Instances on a 12 MiB tmpfs: room for the seed, a fresh overlay and a first boot's own writes, not more.
  const dir = mkdtempSync(join(tmpdir(), 'qlt-ioerr-'));
  const root = join(dir, 'instances');
  mkdirSync(root);
  const mounted = await execa('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0700', 'tmpfs', root], {
    reject: false,
  });
  t.teardown(async () => {
    await Instance.destroy('full', { root, force: true }).catch(() => {});
    // QEMU's files can hold the mount for a moment after it is gone.
    for (let tries = 0; mounted.exitCode === 0 && tries < 20; tries++) {
      if ((await execa('umount', [root], { reject: false })).exitCode === 0) break;
      await sleep(500);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  if (mounted.exitCode !== 0) {
    t.plan(0, `cannot mount a small tmpfs here (${mounted.stderr.trim()}): needs root`);
    return;
  }
  // The guest writes 64 MiB during its first boot, sure to fill what is left.
  const userData = join(dir, 'fill.yaml');
  writeFileSync(
    userData,
    '#cloud-config\nruncmd:\n  - [sh, -c, "head -c 64M /dev/urandom > /var/tmp/fill; sync"]\n',
  );
  const instance = await Instance.create(
    { name: 'full', image: 'debian-12-local', accel: 'tcg', userData },
    { root },
  );
  const error = await instance.start({ wait: 'cloud-init', timeout: 600_000 }).then(
    () => undefined,
    (e: { code: string; message: string; hint: string }) => e,
  );
  t.equal(error?.code, 'VM_IO_ERROR', 'not a timeout: the wait ended on the error');
  t.match(
    error?.message,
    /instance full started but is not ready: the guest is paused on a disk I\/O error: .*no space left on the host/,
  );
  t.match(error?.hint, /free space on the host filesystem .* then resume it: qlaunch qmp full cont/);
  t.match(await instance.status(), { state: 'paused', qemuStatus: 'io-error' });
});
