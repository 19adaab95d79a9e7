import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { pullImage } from '../../lib/image/pull.js';
import { type ImageStore, openImageStore } from '../../lib/image/store.js';
import { makeQcow2 } from './disks.js';
import { imageServer } from './image-server.js';

process.env['QLAUNCH_HOME'] = t.testdir();

const fixtures = t.testdir();
const QCOW2 = readFileSync(await makeQcow2(fixtures, 'disk.qcow2'));
const SHA256 = createHash('sha256').update(QCOW2).digest('hex');
const SHA512 = createHash('sha512').update(QCOW2).digest('hex');
const TEXT = Buffer.from('<html>an error page, not a disk</html>\n'.repeat(20));

const routes = () => ({
  '/images/debian-12-genericcloud-amd64.qcow2': { body: QCOW2 },
  '/images/SHA256SUMS': {
    body: `${'1'.repeat(64)}  other.qcow2\n${SHA256}  debian-12-genericcloud-amd64.qcow2\n`,
  },
  '/images/CHECKSUM': { body: `# signed\nSHA512 (debian-12-genericcloud-amd64.qcow2) = ${SHA512}\n` },
  '/moved/disk.qcow2': { redirect: '/images/debian-12-genericcloud-amd64.qcow2' },
  '/drop/disk.qcow2': { body: QCOW2, dropAfter: 100_000 },
  '/stall/disk.qcow2': { body: QCOW2, stallAfter: 100_000 },
  '/text/page.qcow2': { body: TEXT },
});

const IMAGE = '/images/debian-12-genericcloud-amd64.qcow2';

/** The store holds exactly these images and nothing half-made (no scratch directory, no .part file). */
function storeHolds(t: Test, store: ImageStore, names: string[]): void {
  const entries = existsSync(store.dir) ? readdirSync(store.dir).sort() : [];
  t.same(entries, names, `store holds ${names.join(', ') || 'nothing'}`);
}

t.test('a pull with a checksum: streamed, verified, stored read-only with its record', async (t) => {
  const server = await imageServer(t, routes());
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const progress: number[] = [];
  const pulled = await pullImage({
    url: server.url(IMAGE),
    name: 'debian-12',
    checksum: `sha256:${SHA256.toUpperCase()}`,
    store,
    arch: 'x86_64',
    onProgress: (p) => progress.push(p.received),
  });
  t.equal(pulled.downloaded, true);
  t.same(pulled.verified, { algorithm: 'sha256', hex: SHA256 });
  t.match(pulled.image, {
    name: 'debian-12',
    format: 'qcow2',
    disk: 'disk.qcow2',
    size: QCOW2.length,
    virtualSize: 64 * 1024 * 1024,
    checksum: `sha256:${SHA256}`,
    origin: 'pull',
    source: server.url(IMAGE),
    arch: 'x86_64',
  });
  t.ok(readFileSync(pulled.image.path).equals(QCOW2));
  t.equal(statSync(pulled.image.path).mode & 0o777, 0o444);
  t.equal(statSync(pulled.image.dir).mode & 0o777, 0o700);
  t.equal(progress.at(-1), QCOW2.length);
  storeHolds(t, store, ['debian-12']);

  // Second pull: same name, same checksum → no download at all.
  const again = await pullImage({
    url: server.url(IMAGE),
    name: 'debian-12',
    checksum: `sha256:${SHA256}`,
    store,
  });
  t.equal(again.downloaded, false);
  t.equal(server.hits(IMAGE), 1, 'the image was fetched once');
  // A SHA-512 for the same bytes: checked against the stored file, still no download.
  const by512 = await pullImage({
    url: server.url(IMAGE),
    name: 'debian-12',
    checksum: `sha512:${SHA512}`,
    store,
  });
  t.equal(by512.downloaded, false);
  t.equal(server.hits(IMAGE), 1);
  await t.rejects(
    pullImage({ url: server.url(IMAGE), name: 'debian-12', checksum: `sha512:${'0'.repeat(128)}`, store }),
    { code: 'IMAGE_EXISTS', message: /already stored with sha256:.*, but .* should be sha512:0+$/ },
  );
  await t.rejects(
    pullImage({ url: server.url(IMAGE), name: 'debian-12', checksum: `sha256:${'0'.repeat(64)}`, store }),
    {
      code: 'IMAGE_EXISTS',
      hint: /qlaunch image rm debian-12/,
    },
  );
  t.equal(server.hits(IMAGE), 1);
});

t.test(
  "the vendor's SHA256SUMS or a BSD-style CHECKSUM file gives the checksum; redirects are followed",
  async (t) => {
    const server = await imageServer(t, routes());
    const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
    const pulled = await pullImage({
      url: server.url(IMAGE),
      name: 'gnu',
      checksumUrl: server.url('/images/SHA256SUMS'),
      store,
    });
    t.equal(pulled.image.checksum, `sha256:${SHA256}`);
    const again = await pullImage({
      url: server.url(IMAGE),
      name: 'gnu',
      checksumUrl: server.url('/images/SHA256SUMS'),
      store,
    });
    t.equal(again.downloaded, false);
    t.equal(server.hits('/images/SHA256SUMS'), 2, 'the sums file is read each time');
    t.equal(server.hits(IMAGE), 1, 'the image only once');

    const bsd = await pullImage({
      url: server.url(IMAGE),
      name: 'bsd',
      checksumUrl: server.url('/images/CHECKSUM'),
      store,
    });
    t.equal(bsd.image.checksum, `sha512:${SHA512}`);
    const moved = await pullImage({
      url: server.url('/moved/disk.qcow2'),
      name: 'moved',
      checksum: `sha256:${SHA256}`,
      store,
    });
    t.equal(moved.image.source, server.url('/moved/disk.qcow2'), 'the URL asked for is recorded');
    storeHolds(t, store, ['bsd', 'gnu', 'moved']);

    await t.rejects(
      pullImage({
        url: server.url('/moved/disk.qcow2'),
        name: 'x',
        checksumUrl: server.url('/images/SHA256SUMS'),
        store,
      }),
      {
        code: 'IMAGE_CHECKSUM_INVALID',
        message: `${server.url('/images/SHA256SUMS')} lists no sha256 or sha512 checksum for disk.qcow2`,
      },
    );
    await t.rejects(
      pullImage({ url: server.url(IMAGE), name: 'x', checksumUrl: server.url('/images/NOSUMS'), store }),
      {
        code: 'IMAGE_DOWNLOAD_FAILED',
        message: /NOSUMS failed: HTTP 404/,
      },
    );
    t.equal(server.hits('/moved/disk.qcow2'), 1, 'no download when the checksum cannot be known');
  },
);

t.test(
  'failures leave nothing in the store: 404, dropped connection, wrong checksum, not a disk',
  async (t) => {
    const server = await imageServer(t, routes());
    const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
    await t.rejects(
      pullImage({ url: server.url('/images/gone.qcow2'), name: 'a', checksum: `sha256:${SHA256}`, store }),
      {
        code: 'IMAGE_DOWNLOAD_FAILED',
        message: `GET ${server.url('/images/gone.qcow2')} failed: HTTP 404 Not Found`,
      },
    );
    await t.rejects(
      pullImage({ url: server.url('/drop/disk.qcow2'), name: 'a', checksum: `sha256:${SHA256}`, store }),
      {
        code: 'IMAGE_DOWNLOAD_FAILED',
        message: /broke off after \d+ of \d+ bytes/,
      },
    );
    await t.rejects(
      pullImage({ url: server.url(IMAGE), name: 'a', checksum: `sha256:${'e'.repeat(64)}`, store }),
      {
        code: 'IMAGE_CHECKSUM_MISMATCH',
        message: `${server.url(IMAGE)} has sha256:${SHA256}, not the expected sha256:${'e'.repeat(64)}`,
      },
    );
    const textSum = createHash('sha256').update(TEXT).digest('hex');
    await t.rejects(
      pullImage({ url: server.url('/text/page.qcow2'), name: 'a', checksum: `sha256:${textSum}`, store }),
      {
        code: 'IMAGE_INVALID',
        message: `${server.url('/text/page.qcow2')} is not a usable disk image: it starts with text, not a disk`,
      },
    );
    storeHolds(t, store, []);
  },
);

t.test('refusals of what was downloaded name the URL, never the scratch file it lay in', async (t) => {
  // A qcow2 whose header the inspector accepts but whose L1 table offset qemu-img refuses to open.
  const badL1 = Buffer.from(QCOW2);
  badL1.writeBigUInt64BE(0x30001n, 40);
  const server = await imageServer(t, {
    '/x/page.qcow2': { body: TEXT },
    '/x/bad-l1.qcow2': { body: badL1 },
  });
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  for (const [path, problem] of [
    ['/x/page.qcow2', /it starts with text, not a disk/],
    ['/x/bad-l1.qcow2', /qemu-img cannot open it: Active L1 table offset invalid/],
  ] as const) {
    const url = server.url(path);
    const error = await pullImage({ url, name: 'a', store, unverified: true }).catch((e: unknown) => e);
    t.match(error, { code: 'IMAGE_INVALID', message: `${url} is not a usable disk image: ` }, path);
    t.match(error, { message: problem }, path);
    for (const scratch of ['.tmp-', 'download.part', store.dir]) {
      t.notMatch(
        `${(error as Error).message}\n${(error as { hint?: string }).hint}`,
        scratch,
        `${path}: no ${scratch}`,
      );
    }
  }
  storeHolds(t, store, []);
});

t.test('an image served on port 10080, which browsers block, pulls like any other', async (t) => {
  let server: Awaited<ReturnType<typeof imageServer>>;
  try {
    server = await imageServer(t, routes(), 10080);
  } catch (error) {
    t.plan(0, `port 10080 is taken here (${(error as NodeJS.ErrnoException).code})`);
    return;
  }
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const pulled = await pullImage({
    url: server.url(IMAGE),
    name: 'blocked-port',
    checksum: `sha256:${SHA256}`,
    store,
  });
  t.match(pulled.image, {
    checksum: `sha256:${SHA256}`,
    source: 'http://127.0.0.1:10080/images/debian-12-genericcloud-amd64.qcow2',
  });
  storeHolds(t, store, ['blocked-port']);
});

t.test(
  'a pull that stalls fails after the bound it was given, naming the option; nothing is kept',
  async (t) => {
    const half = { body: QCOW2, stallAfter: Math.floor(QCOW2.length / 2) };
    const server = await imageServer(t, { '/half/disk.qcow2': half });
    const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
    const url = server.url('/half/disk.qcow2');
    await t.rejects(pullImage({ url, name: 'a', checksum: `sha256:${SHA256}`, store, stallTimeout: 500 }), {
      code: 'IMAGE_DOWNLOAD_STALLED',
      message: `download of ${url} stalled: nothing arrived for 0.5 s after ${half.stallAfter} of ${QCOW2.length} bytes`,
      hint: /--stall-timeout/,
    });
    storeHolds(t, store, []);
    await t.rejects(pullImage({ url, name: 'a', checksum: `sha256:${SHA256}`, store, stallTimeout: 0 }), {
      code: 'USAGE',
      message: 'stallTimeout 0 is not a positive number of milliseconds',
    });
  },
);

t.test('an aborted pull leaves nothing', async (t) => {
  const server = await imageServer(t, routes());
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const controller = new AbortController();
  let scratchSeen: string[] = [];
  void server.stalled.then(() =>
    setTimeout(() => {
      scratchSeen = readdirSync(store.dir);
      controller.abort();
    }, 50),
  );
  await t.rejects(
    pullImage({
      url: server.url('/stall/disk.qcow2'),
      name: 'a',
      checksum: `sha256:${SHA256}`,
      store,
      signal: controller.signal,
    }),
    { code: 'IMAGE_ABORTED' },
  );
  t.match(scratchSeen, [/^\.tmp-\d+-/], 'the partial download lived in a scratch directory in the store');
  storeHolds(t, store, []);
});

t.test('checksum rules: one source only, and none only when asked for', async (t) => {
  const server = await imageServer(t, routes());
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const url = server.url(IMAGE);
  await t.rejects(pullImage({ url, name: 'a', store }), {
    code: 'IMAGE_CHECKSUM_INVALID',
    message: `nothing to verify ${url} against`,
    hint: /--checksum sha256:HEX.*--no-verify/,
  });
  await t.rejects(pullImage({ url, name: 'a', store, checksum: `sha256:${SHA256}`, checksumUrl: url }), {
    message: 'both a checksum and a checksum URL were given',
  });
  await t.rejects(pullImage({ url, name: 'a', store, checksum: 'sha1:abc' }), {
    code: 'IMAGE_CHECKSUM_INVALID',
  });
  await t.rejects(pullImage({ url, name: 'A', store, unverified: true }), { code: 'IMAGE_NAME_INVALID' });
  await t.rejects(pullImage({ url: 'ftp://x/y.img', name: 'a', store, unverified: true }), {
    code: 'IMAGE_DOWNLOAD_FAILED',
  });
  t.equal(server.hits(IMAGE), 0);

  const loose = await pullImage({ url, name: 'loose', store, unverified: true });
  t.equal(loose.verified, undefined);
  t.equal(loose.image.checksum, `sha256:${SHA256}`, 'its sha256 is recorded all the same');
  t.equal(
    (await pullImage({ url, name: 'loose', store, unverified: true })).downloaded,
    false,
    'same URL: kept',
  );
  await t.rejects(
    pullImage({ url: server.url('/moved/disk.qcow2'), name: 'loose', store, unverified: true }),
    {
      code: 'IMAGE_EXISTS',
      message: /already stored from .*, not .*moved/,
    },
  );
  t.equal(server.hits(IMAGE), 1);
});

t.test('two pulls of one image at once: both succeed, one copy is kept', async (t) => {
  const server = await imageServer(t, routes());
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const options = { url: server.url(IMAGE), name: 'twice', checksum: `sha256:${SHA256}`, store };
  const [a, b] = await Promise.all([pullImage(options), pullImage(options)]);
  t.equal(a.image.checksum, b.image.checksum);
  storeHolds(t, store, ['twice']);
});
