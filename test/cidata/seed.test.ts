import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import t from 'tap';
import {
  buildSeedImage,
  type NoCloudSeed,
  writeFileAtomic,
  writeHint,
  writeSeedImage,
} from '../../lib/cidata/seed.js';
import { isQlaunchError } from '../../lib/errors.js';
import { blkid, digest, mcopyExtract, osirroxExtract } from './readers.js';

const DATE = new Date('2024-05-06T07:08:10Z');
const FILES = {
  'meta-data': 'instance-id: iid-1\n',
  'user-data': '#cloud-config\nssh_authorized_keys: [ssh-ed25519 AAAA test]\n',
  'network-config': 'version: 2\n',
  'vendor-data': '',
};
const SEED: NoCloudSeed = { files: FILES, date: DATE };
const want = (files: Record<string, string>) =>
  digest(new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])));

t.test('writes an ISO 9660 seed by default and a VFAT one on request, both found by label', async (t) => {
  const dir = t.testdir();
  await writeSeedImage(`${dir}/cidata.iso`, SEED);
  t.equal((await stat(`${dir}/cidata.iso`)).mode & 0o777, 0o600, 'mode 0600: seeds carry keys');
  t.match(await blkid(`${dir}/cidata.iso`), { LABEL: 'cidata', TYPE: 'iso9660' });
  t.same(digest((await osirroxExtract(`${dir}/cidata.iso`, `${dir}/iso`)).files), want(FILES));

  await writeSeedImage(`${dir}/cidata.img`, { ...SEED, filesystem: 'vfat' });
  t.match(await blkid(`${dir}/cidata.img`), { LABEL: 'CIDATA', TYPE: 'vfat' });
  t.same(digest((await mcopyExtract(`${dir}/cidata.img`, `${dir}/fat`)).files), want(FILES));

  const minimal = { 'meta-data': '', 'user-data': '' };
  await writeSeedImage(`${dir}/min.iso`, { files: minimal, date: DATE, label: 'CIDATA' });
  t.match(await blkid(`${dir}/min.iso`), { LABEL: 'CIDATA' });
  t.same(digest((await osirroxExtract(`${dir}/min.iso`, `${dir}/min`)).files), want(minimal));
  t.same(
    (await readdir(dir)).filter((n) => n.endsWith('.tmp')),
    [],
    'no temporary files left',
  );
});

t.test('buildSeedImage is pure and deterministic', async (t) => {
  t.ok(Buffer.from(buildSeedImage(SEED)).equals(buildSeedImage(SEED)));
  t.ok(
    Buffer.from(buildSeedImage({ ...SEED, filesystem: 'vfat' })).equals(
      buildSeedImage({ ...SEED, filesystem: 'vfat' }),
    ),
  );
  t.not(Buffer.from(buildSeedImage(SEED)).equals(buildSeedImage({ ...SEED, date: new Date(0) })), true);
});

t.test('replaces an existing file atomically', async (t) => {
  const dir = t.testdir({ 'seed.iso': 'old contents' });
  await writeSeedImage(`${dir}/seed.iso`, SEED);
  t.same(await readFile(`${dir}/seed.iso`), Buffer.from(buildSeedImage(SEED)));
  t.equal((await stat(`${dir}/seed.iso`)).mode & 0o777, 0o600);
});

t.test('a VFAT seed written sparse reads back as every byte of the image, zero tail included', async (t) => {
  const dir = t.testdir();
  const vfat: NoCloudSeed = { ...SEED, filesystem: 'vfat' };
  await writeSeedImage(`${dir}/seed.img`, vfat);
  const whole = buildSeedImage(vfat);
  t.equal((await stat(`${dir}/seed.img`)).size, whole.length, 'full size: 1 MiB');
  t.same(await readFile(`${dir}/seed.img`), Buffer.from(whole));
  await writeFileAtomic(`${dir}/small`, { head: Uint8Array.of(1, 2), size: 5 });
  t.same(await readFile(`${dir}/small`), Buffer.from([1, 2, 0, 0, 0]));
});

t.test('bad seeds are refused before anything is written', async (t) => {
  const dir = t.testdir();
  const bad: [string, NoCloudSeed, string][] = [
    ['missing user-data', { files: { 'meta-data': '' } as NoCloudSeed['files'] }, 'SEED_INVALID'],
    ['missing meta-data', { files: { 'user-data': '' } as NoCloudSeed['files'] }, 'SEED_INVALID'],
    ['unknown file', { files: { ...FILES, 'user-data.yaml': '' } as NoCloudSeed['files'] }, 'SEED_INVALID'],
    ['unknown filesystem', { ...SEED, filesystem: 'ext4' as 'vfat' }, 'SEED_INVALID'],
    ['bad label', { ...SEED, label: 'no/slash' }, 'SEED_INVALID'],
  ];
  for (const [what, seed, code] of bad) {
    await t.rejects(writeSeedImage(`${dir}/out.iso`, seed), { code }, what);
  }
  t.same(await readdir(dir), [], 'nothing was written');
});

t.test('unwritable outputs fail with SEED_WRITE naming the path, leaving nothing behind', async (t) => {
  const dir = t.testdir({ 'a-file': 'x', existing: {} });
  const cases: [string, string, RegExp][] = [
    ['output is a directory', `${dir}/existing`, /is a directory; give a file path/],
    ['parent does not exist', `${dir}/missing/seed.iso`, /Create the directory/],
    ['parent is a file', `${dir}/a-file/seed.iso`, /not a directory/],
  ];
  for (const [what, path, hint] of cases) {
    try {
      await writeSeedImage(path, SEED);
      t.fail(`${what}: should have thrown`);
    } catch (error) {
      t.ok(isQlaunchError(error, 'SEED_WRITE'), `${what}: SEED_WRITE`);
      t.match(isQlaunchError(error) && error.message, path, `${what}: names the path`);
      t.match(isQlaunchError(error) && error.hint, hint, `${what}: hint`);
    }
  }
  t.same((await readdir(dir)).sort(), ['a-file', 'existing']);
  t.same(await readdir(`${dir}/existing`), [], 'no temporary file left in the directory');
});

t.test(
  'writeFileAtomic refuses to write through a read-only directory',
  { skip: process.getuid?.() === 0 && 'root ignores directory permissions' },
  async (t) => {
    const dir = t.testdir({ ro: {} });
    const { chmod } = await import('node:fs/promises');
    await chmod(`${dir}/ro`, 0o500);
    t.teardown(() => chmod(`${dir}/ro`, 0o700));
    await t.rejects(writeFileAtomic(`${dir}/ro/seed.iso`, new Uint8Array(1)), {
      code: 'SEED_WRITE',
      hint: /writable/,
    });
  },
);

t.test('a relative path works and the temporary name stays hidden', async (t) => {
  const dir = t.testdir();
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  await mkdir('sub');
  await writeFile('sub/keep', 'x');
  await writeFileAtomic('sub/seed.iso', Uint8Array.of(1, 2, 3));
  t.same(await readFile('sub/seed.iso'), Buffer.from([1, 2, 3]));
  t.same((await readdir('sub')).sort(), ['keep', 'seed.iso']);
});

t.test('every errno we expect has a hint that names the fix', async (t) => {
  t.match(writeHint('/x/seed.iso', 'EACCES'), /writable/);
  t.match(writeHint('/x/seed.iso', 'EPERM'), /permissions of \/x/);
  t.match(writeHint('/x/seed.iso', 'EROFS'), /writable/);
  t.match(writeHint('/x/seed.iso', 'ENOSPC'), /disk space/);
  t.match(writeHint('/x/seed.iso', 'EDQUOT'), /disk space/);
  t.match(writeHint('/x/seed.iso', 'EIO'), /Check the output path/);
  t.match(writeHint('/x/seed.iso', undefined), /Check the output path/);
});

t.test('a 255-byte target name still gets a valid temporary name', async (t) => {
  const dir = t.testdir();
  await writeFileAtomic(`${dir}/${'s'.repeat(251)}.iso`, Uint8Array.of(1));
  await writeFileAtomic(`${dir}/${'日'.repeat(85)}`, Uint8Array.of(2));
  t.same((await readdir(dir)).sort(), [`${'s'.repeat(251)}.iso`, '日'.repeat(85)]);
});

t.test(
  'writeFileAtomic never replaces a FIFO or socket, nor writes a file named after a path ending in /',
  async (t) => {
    const { execa } = await import('execa');
    const { lstat } = await import('node:fs/promises');
    const dir = t.testdir({ sub: {} });
    await execa('mkfifo', [`${dir}/fifo`]);
    await t.rejects(writeFileAtomic(`${dir}/fifo`, Uint8Array.of(1)), {
      code: 'SEED_WRITE',
      message: /fifo: it is a FIFO/,
    });
    t.ok((await lstat(`${dir}/fifo`)).isFIFO(), 'still a FIFO');
    await t.rejects(writeSeedImage(`${dir}/made/`, SEED), {
      code: 'SEED_WRITE',
      message: /the path ends with \//,
      hint: /made\/cidata\.iso/,
    });
    await t.rejects(writeSeedImage(`${dir}/sub/`, SEED), { code: 'SEED_WRITE' });
    t.same((await readdir(dir)).sort(), ['fifo', 'sub'], 'no file named after either directory');
  },
);

t.test('seed files may be bytes: they land in the image unchanged', async (t) => {
  const dir = t.testdir();
  const latin1 = Uint8Array.from([...Buffer.from('#!/bin/sh\necho caf'), 0xe9, 0x0a]);
  const files = { 'meta-data': 'instance-id: iid-1\n', 'user-data': latin1 };
  await writeSeedImage(`${dir}/b.iso`, { files, date: DATE });
  await writeSeedImage(`${dir}/b.img`, { files, date: DATE, filesystem: 'vfat' });
  t.same((await osirroxExtract(`${dir}/b.iso`, `${dir}/iso`)).files.get('user-data'), Buffer.from(latin1));
  t.same((await mcopyExtract(`${dir}/b.img`, `${dir}/fat`)).files.get('user-data'), Buffer.from(latin1));
});
