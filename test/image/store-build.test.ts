import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { addImage, openImageStore } from '../../lib/image/store.js';
import { buildStoredDebianImage, defaultBuildName } from '../../lib/image/store-build.js';

process.env['QLAUNCH_HOME'] = t.testdir();

// A real build takes minutes (test/image/debian-build.test.ts runs one); these cover what the store adds to it.

t.test('built images are named debian-12-local, or debian-12-local-<arch>', async (t) => {
  t.equal(defaultBuildName('bookworm', 'x86_64'), 'debian-12-local');
  t.equal(defaultBuildName('bookworm', 'aarch64'), 'debian-12-local-aarch64');
});

t.test('a taken or invalid name fails before the build starts', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  await t.rejects(buildStoredDebianImage(store, { arch: 'x86_64', name: 'Bad' }), {
    code: 'IMAGE_NAME_INVALID',
  });
  t.notOk(existsSync(store.dir));
  await addImage(store, 'debian-12-local', async (dir) => {
    writeFileSync(join(dir, 'disk.raw'), 'x');
    return {
      format: 'raw',
      disk: 'disk.raw',
      virtualSize: 1,
      size: 1,
      checksum: `sha256:${'0'.repeat(64)}`,
      origin: 'import',
      source: 'test',
    };
  });
  await t.rejects(buildStoredDebianImage(store, { arch: 'x86_64' }), {
    code: 'IMAGE_EXISTS',
    message: /an image 'debian-12-local' is already in/,
  });
});

t.test('a build that fails leaves no scratch directory in the store', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  await t.rejects(buildStoredDebianImage(store, { arch: 'aarch64', extraPackages: ['not a package'] }), {
    code: 'IMAGE_BUILD_INVALID',
  });
  const aborted = new AbortController();
  aborted.abort();
  await t.rejects(buildStoredDebianImage(store, { arch: 'x86_64', signal: aborted.signal }), {
    code: /^(IMAGE_BUILD_ABORTED|HOST_)/,
  });
  t.same(readdirSync(store.dir), []);
});
