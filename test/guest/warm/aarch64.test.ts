// A warm image of another architecture: the arm64 Debian guest (its own kernel, `virt`, TCG) warmed once, and a
// clone restored from it runs a command. Clones there get no VM generation ID device (x86_64's only).
import { join } from 'node:path';
import t from 'tap';
import { launch } from '../../../lib/guest/launch.js';
import { warmImage } from '../../../lib/guest/warm/save.js';
import { clockSkew, shortTempDir, testHome, useEnv } from '../../fixtures/guests.js';

// A cold arm64 boot under TCG: ~1–3 min idle, more on a busy host; the clone seconds.
t.setTimeout(2_400_000);

t.test('aarch64: warm once, a clone runs uname -m', async (t) => {
  const home = await testHome(['aarch64']);
  const runtime = shortTempDir(t);
  useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime });
  const dir = join(shortTempDir(t), 'warm');
  const record = await warmImage(
    { image: 'debian-12-local', arch: 'aarch64', cpus: 2, accel: 'tcg', dir },
    { readyTimeout: 1_800_000 },
  );
  t.match(record, { arch: 'aarch64', machineType: /^virt-\d+\.\d+$/, vmgenid: false, accel: 'tcg' });
  const guest = await launch({ image: dir });
  try {
    const { stdout, exitCode } = await guest.exec(['uname', '-m']);
    t.equal(exitCode, 0);
    t.equal(stdout.trim(), 'aarch64', 'the clone is the arm64 guest');
    const skew = await clockSkew(guest);
    t.ok(skew < 1, `its clock is the host's (outside the host's by ${skew.toFixed(2)} s)`);
  } finally {
    await guest.kill();
  }
});
