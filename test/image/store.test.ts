import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import {
  addImage,
  createScratch,
  findImage,
  getImage,
  listImages,
  openImageStore,
  removeImage,
  STORE_FILES,
  sweepStore,
} from '../../lib/image/store.js';

// Never the real home, whatever a test forgets to pass.
process.env['QLAUNCH_HOME'] = t.testdir();

const described = (disk = 'disk.raw') => ({
  format: 'raw',
  disk,
  virtualSize: 1024,
  size: 1024,
  checksum: `sha256:${'0'.repeat(64)}`,
  origin: 'import' as const,
  source: '/somewhere/disk.raw',
});

t.test('the store follows QLAUNCH_HOME; nothing exists until an image is added', async (t) => {
  const home = t.testdir();
  const store = openImageStore({ env: { QLAUNCH_HOME: home } });
  t.equal(store.dir, join(home, 'images'));
  t.equal(openImageStore().dir, join(process.env['QLAUNCH_HOME']!, 'images'));
  t.equal(openImageStore({ dir: 'rel' }).dir, join(process.cwd(), 'rel'));
  t.same(await listImages(store), { images: [], broken: [] });
  t.equal(await findImage(store, 'none'), undefined);
  await t.rejects(getImage(store, 'none'), {
    code: 'IMAGE_NOT_FOUND',
    message: `there is no image 'none' in ${store.dir}`,
    hint: /qlaunch image ls/,
  });
  await t.rejects(removeImage(store, 'none'), { code: 'IMAGE_NOT_FOUND' });
  await t.rejects(getImage(store, '../etc'), { code: 'IMAGE_NAME_INVALID' });
  t.notOk(existsSync(store.dir));
});

t.test('an added image is whole, read-only, in a private directory, and listed', async (t) => {
  const home = join(t.testdir(), 'home');
  const store = openImageStore({ env: { QLAUNCH_HOME: home } });
  const image = await addImage(store, 'one', async (dir) => {
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(1024));
    writeFileSync(join(dir, STORE_FILES.kernel), 'k');
    return { ...described(), kernel: STORE_FILES.kernel, arch: 'x86_64' };
  });
  t.match(image, {
    schema: 1,
    name: 'one',
    dir: join(store.dir, 'one'),
    path: join(store.dir, 'one', 'disk.raw'),
    kernelPath: join(store.dir, 'one', 'vmlinuz'),
    arch: 'x86_64',
  });
  t.notOk('initrdPath' in image);
  t.ok(Date.now() - Date.parse(image.added) < 60_000);
  for (const dir of [home, store.dir, image.dir]) t.equal(statSync(dir).mode & 0o777, 0o700, dir);
  for (const file of readdirSync(image.dir))
    t.equal(statSync(join(image.dir, file)).mode & 0o777, 0o444, file);
  t.same(readdirSync(image.dir).sort(), ['disk.raw', 'image.json', 'vmlinuz']);
  t.same(readdirSync(store.dir), ['one'], 'no scratch directory left');
  t.same(await getImage(store, 'one'), image);

  await t.rejects(
    addImage(store, 'one', async () => t.fail('must not be called') as never),
    { code: 'IMAGE_EXISTS', message: `an image 'one' is already in ${store.dir}` },
  );
});

t.test('a failing addition leaves the store as it was', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: t.testdir() } });
  await t.rejects(
    addImage(store, 'two', async (dir) => {
      writeFileSync(join(dir, 'disk.raw'), 'partial');
      throw new Error('download broke');
    }),
    { message: 'download broke' },
  );
  t.same(readdirSync(store.dir), []);
  t.equal(await findImage(store, 'two'), undefined);
  await t.rejects(
    addImage(store, 'Bad', async () => described()),
    { code: 'IMAGE_NAME_INVALID' },
  );
});

t.test('two additions racing for one name: one wins, the other gets IMAGE_EXISTS', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: t.testdir() } });
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const fill = async (dir: string) => {
    writeFileSync(join(dir, 'disk.raw'), 'x');
    await gate;
    return described();
  };
  const racing = Promise.allSettled([addImage(store, 'same', fill), addImage(store, 'same', fill)]);
  setTimeout(release, 50);
  const [a, b] = await racing;
  const outcomes = [a.status, b.status].sort();
  t.same(outcomes, ['fulfilled', 'rejected']);
  const rejected = [a, b].find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.match(rejected.reason, { code: 'IMAGE_EXISTS' });
  t.same(readdirSync(store.dir), ['same']);
});

t.test('rm removes an image, and a broken one; ls reports broken entries without failing', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: t.testdir() } });
  const fill = async (dir: string) => {
    writeFileSync(join(dir, 'disk.raw'), 'x');
    return described();
  };
  await addImage(store, 'keep', fill);
  await addImage(store, 'gone', fill);
  mkdirSync(join(store.dir, 'empty'));
  mkdirSync(join(store.dir, 'garbled'));
  writeFileSync(join(store.dir, 'garbled', 'image.json'), '{');
  mkdirSync(join(store.dir, 'moved'));
  writeFileSync(
    join(store.dir, 'moved', 'image.json'),
    JSON.stringify({ schema: 1, ...described(), name: 'other', added: 'x' }),
  );
  mkdirSync(join(store.dir, 'Not-An-Image'));
  writeFileSync(join(store.dir, 'stray-file'), '');
  mkdirSync(join(store.dir, `.tmp-${process.pid}-abc`));

  const listing = await listImages(store);
  t.same(
    listing.images.map((i) => i.name),
    ['gone', 'keep'],
  );
  t.same(
    listing.broken.map((b) => b.name),
    ['empty', 'garbled', 'moved'],
  );
  t.match(listing.broken[0]!.problem, /cannot read .*empty\/image\.json/);
  t.match(listing.broken[2]!.problem, /describes 'other', not 'moved'/);
  await t.rejects(getImage(store, 'garbled'), { code: 'IMAGE_STORE' });

  t.same(await removeImage(store, 'gone'), { name: 'gone', dir: join(store.dir, 'gone') });
  await removeImage(store, 'garbled');
  await removeImage(store, 'empty');
  t.same(
    (await listImages(store)).images.map((i) => i.name),
    ['keep'],
  );
  t.same(readdirSync(store.dir).sort(), [
    `.tmp-${process.pid}-abc`,
    'Not-An-Image',
    'keep',
    'moved',
    'stray-file',
  ]);
  await t.rejects(removeImage(store, 'stray-file'), { code: 'IMAGE_NOT_FOUND' });
});

t.test('scratch directories of dead processes are swept; live ones are left', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: t.testdir() } });
  const mine = await createScratch(store);
  // pid 2^22 + 1 is above Linux's pid_max limit, so no process can have it.
  const dead = join(store.dir, `.tmp-${2 ** 22 + 1}-xyz`);
  mkdirSync(join(dead, 'sub'), { recursive: true });
  writeFileSync(join(dead, 'sub', 'download.part'), 'half');
  chmodSync(join(dead, 'sub', 'download.part'), 0o444);
  mkdirSync(join(store.dir, `.rm-${2 ** 22 + 2}-xyz`));
  mkdirSync(join(store.dir, '.tmp-1-init'));
  t.same((await sweepStore(store)).sort(), [`.rm-${2 ** 22 + 2}-xyz`, `.tmp-${2 ** 22 + 1}-xyz`]);
  t.same(readdirSync(store.dir).sort(), ['.tmp-1-init', mine.split('/').at(-1)].sort());
});

t.test(
  'an unreadable store is a clear error',
  { skip: process.getuid?.() === 0 && 'root reads any directory' },
  async (t) => {
    const store = openImageStore({ env: { QLAUNCH_HOME: t.testdir() } });
    mkdirSync(store.dir, { mode: 0o000 });
    t.teardown(() => chmodSync(store.dir, 0o700));
    await t.rejects(listImages(store), { code: 'IMAGE_STORE', message: /cannot read the image store/ });
  },
);

t.test('rm refuses an image that instances stand on, and names them', async (t) => {
  const home = t.testdir();
  const store = openImageStore({ env: { QLAUNCH_HOME: home } });
  const image = await addImage(store, 'base', async (dir) => {
    writeFileSync(join(dir, 'disk.raw'), 'x');
    return described();
  });
  const { writeInstanceConfig } = await import('../../lib/instance/config.js');
  const { removeUnusedImage } = await import('../../lib/instance/usage.js');
  for (const name of ['web', 'db']) {
    mkdirSync(join(home, 'instances', name), { recursive: true });
    await writeInstanceConfig(join(home, 'instances', name, 'instance.json'), {
      schema: 1,
      name,
      created: 'now',
      source: 'base',
      arch: 'x86_64',
      cpus: 1,
      memoryMiB: 512,
      accel: 'auto',
      base: { path: image.path, format: 'raw' },
      disk: true,
      seed: true,
      ports: [],
      networks: [],
      mac: '02:00:00:00:00:01',
      readiness: 'cloud-init',
    });
  }
  mkdirSync(join(home, 'instances', 'half-made'));
  await t.rejects(removeUnusedImage(store, 'base'), {
    code: 'IMAGE_IN_USE',
    message: 'image base is the base disk of instances db, web',
    hint: /qlaunch rm db web/,
  });
  t.ok(existsSync(image.path), 'nothing removed');
  rmSync(join(home, 'instances'), { recursive: true });
  t.same(await removeUnusedImage(store, 'base'), { name: 'base', dir: join(store.dir, 'base') });
});

t.test('an interrupt while the disk is checked, after the copy, wins: nothing is stored', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  const controller = new AbortController();
  const adding = addImage(
    store,
    'late',
    async (dir) => {
      writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(1024));
      // Ctrl-C lands while the copy is checked: the fill still returns, as the check does.
      controller.abort();
      return described();
    },
    controller.signal,
  );
  await t.rejects(adding, { code: 'IMAGE_ABORTED', message: "adding image 'late' was interrupted" });
  t.same(readdirSync(store.dir), [], 'no image, no scratch');
  t.equal(await findImage(store, 'late'), undefined);
});

t.test('a warm image: private files keep their mode, and its base cannot go before it', async (t) => {
  const store = openImageStore({ env: { QLAUNCH_HOME: join(t.testdir(), 'home') } });
  await addImage(store, 'base', async (dir) => {
    writeFileSync(join(dir, 'disk.raw'), Buffer.alloc(1024));
    return described();
  });
  const warm = await addImage(
    store,
    'warm',
    async (dir) => {
      writeFileSync(join(dir, 'layer.qcow2'), 'layer');
      writeFileSync(join(dir, 'id_ed25519'), 'key', { mode: 0o600 });
      return { ...described('layer.qcow2'), format: 'qcow2', origin: 'warm', base: 'base' };
    },
    undefined,
    { privateFiles: ['id_ed25519'] },
  );
  t.equal(warm.base, 'base', 'the record names the image it stands on');
  t.equal(statSync(join(warm.dir, 'id_ed25519')).mode & 0o777, 0o600, 'a private file keeps its mode');
  t.equal(statSync(join(warm.dir, 'layer.qcow2')).mode & 0o777, 0o444, 'the rest is read-only');
  await t.rejects(removeImage(store, 'base'), {
    code: 'IMAGE_IN_USE',
    message: 'image base is the base of warm image warm',
    hint: /qlaunch image rm warm/,
  });
  t.ok(existsSync(join(store.dir, 'base')), 'nothing removed');
  await removeImage(store, 'warm');
  t.same(await removeImage(store, 'base'), { name: 'base', dir: join(store.dir, 'base') });
});
