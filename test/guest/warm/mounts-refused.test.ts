// Warm images and mounts: warming a guest with mounts is refused before it boots, and a clone cannot take mounts.
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { launch } from '../../../lib/guest/launch.js';
import { WARM_FILES } from '../../../lib/guest/warm/files.js';
import { warmImage } from '../../../lib/guest/warm/save.js';
import { shortTempDir, testHome, useEnv } from '../../fixtures/guests.js';

t.setTimeout(120_000);

t.test('warming a guest with a mount is WARM_UNSUPPORTED, and nothing is left', async (t) => {
  const home = await testHome();
  const runtime = shortTempDir(t);
  useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime });
  const shared = shortTempDir(t);
  chmodSync(shared, 0o755);
  const out = join(shortTempDir(t), 'warm');
  await t.rejects(
    warmImage(
      { image: 'debian-12-local', dir: out, mounts: [`${shared}:/src:type=9p`] },
      { accel: { accel: 'tcg' } },
    ),
    { code: 'WARM_UNSUPPORTED', message: /guests with mounts/, hint: /without --mount/ },
  );
  t.notOk(existsSync(out), 'no warm image was written');
  t.same(readdirSync(join(runtime, 'qlaunch')), [], 'no run dir was left');
});

t.test('a warm clone cannot be given mounts', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, WARM_FILES.record), '{}');
  await t.rejects(launch({ image: dir, mounts: ['/tmp'] }), {
    code: 'SPEC_INVALID',
    message: /mounts cannot change for warm image/,
  });
});
