// Every library entry point that takes a disk image refuses the hostile ones within seconds, stores nothing, and
// leaves nothing through which the canary's bytes can be read.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import t, { type Test } from 'tap';
import { checkDiskImage } from '../../lib/image/disk-check.js';
import { importImage } from '../../lib/image/import.js';
import { pullImage } from '../../lib/image/pull.js';
import { createOverlay } from '../../lib/image/qemu-img.js';
import { openImageStore } from '../../lib/image/store.js';
import { canaryReaders, type HostileImage, makeHostileImages, releaseFifo } from './hostile-images.js';
import { imageServer } from './image-server.js';

t.setTimeout(120_000);

const hostile = await makeHostileImages(join(t.testdir(), 'hostile'));
// Only needed if a tool ever opened the FIFO: then this lets it finish instead of hanging the run.
t.teardown(() => releaseFifo(hostile.fifo));

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const slowest: Record<string, number> = {};

/** `promise` fails within `seconds` with IMAGE_INVALID, naming `source` and the image's problem. */
async function refusedQuickly(
  t: Test,
  what: string,
  promise: Promise<unknown>,
  source: string,
  image: HostileImage,
): Promise<void> {
  const started = performance.now();
  await t.rejects(
    promise,
    {
      code: 'IMAGE_INVALID',
      message: new RegExp(`^${escapeRegExp(source)} is not a usable disk image: ${image.problem.source}`),
      hint: /qemu-img convert -f \w+ -O qcow2 |store an unencrypted image|give the disk image itself/,
    },
    `${what} refuses it`,
  );
  const ms = performance.now() - started;
  slowest[what] = Math.max(slowest[what] ?? 0, ms);
  t.ok(ms < 5_000, `${what}: refused in ${Math.round(ms)} ms`);
}

const server = await imageServer(
  t,
  Object.fromEntries(
    hostile.images.map((i) => [`/images/${basename(i.path)}`, { body: readFileSync(i.path) }]),
  ),
);

for (const image of hostile.images) {
  t.test(image.name, async (t) => {
    // The FIFO case used to hang for ever: it must be refused at once.
    t.setTimeout(image.name === 'qcow2-data-fifo' ? 15_000 : 60_000);
    const home = join(t.testdir(), 'home');
    const store = openImageStore({ env: { QLAUNCH_HOME: home } });
    const overlays = join(home, 'overlays');
    mkdirSync(overlays, { recursive: true });

    await refusedQuickly(t, 'checkDiskImage', checkDiskImage(image.path), image.path, image);
    await refusedQuickly(
      t,
      'importImage',
      importImage(store, { file: image.path, name: image.name }),
      image.path,
      image,
    );
    const url = server.url(`/images/${basename(image.path)}`);
    const checksum = `sha256:${createHash('sha256').update(readFileSync(image.path)).digest('hex')}`;
    await refusedQuickly(t, 'pullImage', pullImage({ url, name: image.name, checksum, store }), url, image);
    if (image.probed !== 'raw') {
      // A store made before the inspector recorded the probed format: an overlay on it is refused too.
      const overlay = createOverlay(image.path, image.probed, join(overlays, 'disk.qcow2'));
      await refusedQuickly(t, 'createOverlay', overlay, image.path, image);
    }

    t.same(existsSync(store.dir) ? readdirSync(store.dir) : [], [], 'nothing stored, no scratch left');
    t.same(readdirSync(overlays), [], 'no overlay made');
    t.same(
      await canaryReaders([home], join(t.testdir(), 'scratch')),
      [],
      'the canary cannot be read through anything',
    );
  });
}

t.test('measured', async (t) => {
  t.comment(
    `slowest refusal per entry point (ms): ${JSON.stringify(slowest, (_, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
  );
});
