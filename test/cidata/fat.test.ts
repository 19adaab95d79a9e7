import { execa } from 'execa';
import t, { type Test } from 'tap';
import { buildFat } from '../../lib/cidata/fat.js';
import type { SeedFile } from '../../lib/cidata/seed-tree.js';
import { isQlaunchError } from '../../lib/errors.js';
import { blkid, digest, fsckVfat, MTOOLS_ENV, mcopyExtract, noise, saveImage } from './readers.js';

const DATE = new Date('2024-05-06T07:08:10Z');
const MiB = 1024 * 1024;

const STANDARD: SeedFile[] = [
  { path: 'meta-data', data: 'instance-id: iid-local01\nlocal-hostname: qlaunch\n' },
  { path: 'user-data', data: '#cloud-config\npassword: passw0rd\nchpasswd: { expire: False }\n' },
  { path: 'network-config', data: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' },
  { path: 'vendor-data', data: '#cloud-config\n{}\n' },
];

const expected = (files: readonly SeedFile[]) =>
  digest(new Map(files.map((f) => [f.path, typeof f.data === 'string' ? Buffer.from(f.data) : f.data])));

/** fsck.vfat finds nothing to fix and mcopy reads every file back under its long name. */
const roundTrip = async (t: Test, image: Uint8Array, files: readonly SeedFile[]) => {
  const dir = t.testdir();
  const path = await saveImage(dir, 'seed.img', image);
  const fsck = await fsckVfat(path);
  t.equal(fsck.exitCode, 0, 'fsck.vfat -n: clean');
  t.notMatch(fsck.output, /differ|error|invalid|bad|lost/i, fsck.output);
  const copy = await mcopyExtract(path, `${dir}/out`);
  t.equal(copy.exitCode, 0, copy.stderr);
  t.same(digest(copy.files), expected(files), 'mcopy reads every file back');
  return { path, fsck: fsck.output };
};

const mtools = async (command: string, args: string[]) =>
  (await execa(command, args, { env: MTOOLS_ENV, encoding: 'buffer', stripFinalNewline: false })).stdout;

t.test('standard NoCloud seed: fsck clean, label CIDATA, long names, bytes', async (t) => {
  const image = buildFat(STANDARD, { date: DATE });
  t.equal(image.length, MiB, 'a small seed gets the 1 MiB minimum');
  const { path, fsck } = await roundTrip(t, image, STANDARD);
  t.match(fsck, /12 bit entries/, 'FAT12');
  const id = await blkid(path);
  t.equal(id['LABEL'], 'CIDATA');
  t.equal(id['TYPE'], 'vfat');
  t.equal(id['VERSION'], 'FAT12');
  const listing = Buffer.from(await mtools('mdir', ['-i', path, '::'])).toString();
  t.match(listing, /Volume in drive : is CIDATA/);
  for (const f of STANDARD) {
    t.match(listing, new RegExp(` ${f.path}\\n`), `mdir shows ${f.path}`);
    const bytes = Buffer.from(await mtools('mtype', ['-i', path, `::/${f.path}`])).toString();
    t.equal(bytes, f.data, `mtype ::/${f.path}`);
  }
  t.match(listing, /USER-D~1 +\d+ 2024-05-06 +7:08 +user-data/, 'short name with ~1 tail and the fixed date');
  t.match(listing, /NETWOR~1 /);
});

t.test('file sizes across sector and cluster edges, and a multi-MiB FAT16 volume', async (t) => {
  const files: SeedFile[] = [0, 1, 511, 512, 513, 2048, 4097].map((n, i) => ({
    path: `f${n}`,
    data: noise(n, i + 1),
  }));
  await roundTrip(t, buildFat(files, { date: DATE }), files);
  const big = [...files, { path: 'big.bin', data: noise(3 * MiB + 5, 9) }];
  const image = buildFat(big, { date: DATE });
  t.ok(image.length >= 3 * MiB && image.length % MiB === 0, `grown to whole MiB (${image.length})`);
  const { path, fsck } = await roundTrip(t, image, big);
  t.match(fsck, /16 bit entries/, 'enough clusters for FAT16');
  t.equal((await blkid(path))['VERSION'], 'FAT16');
});

t.test('long names and names that collide once shortened', async (t) => {
  const files: SeedFile[] = [
    'user-data',
    'user-data-1',
    'user-data-2',
    'USER-D~1', // a real name shaped like a generated one: it keeps it, the others move on
    'README',
    'readme.md.txt',
    'Mixed Case (1).yaml',
    'é-unicode-ü.txt',
    `${'n'.repeat(250)}.yaml`,
    '.hidden',
    'a+b,c;d=e[f].g',
  ].map((name, i) => ({ path: name, data: `${i}\n` }));
  const { path } = await roundTrip(t, buildFat(files, { date: DATE }), files);
  const listing = Buffer.from(await mtools('mdir', ['-i', path, '::'])).toString();
  const shorts = [...listing.matchAll(/^(\S+) +(\S*) +\d+ 2024/gm)].map((m) => `${m[1]}.${m[2]}`);
  t.equal(new Set(shorts).size, files.length, `short names are unique: ${shorts.join(' ')}`);
  t.match(listing, /^USER-D~1 +\d+ 2024-05-06 +7:08 *\n/m, 'USER-D~1 is stored as a plain 8.3 name');
  t.match(listing, /^README +\d+ 2024-05-06 +7:08 *\n/m, 'README needs no long name');
});

t.test('deep nesting and many files spanning clusters, in the root and in a subdirectory', async (t) => {
  const deep = Array.from({ length: 12 }, (_, i) => `level-${i + 1}`).join('/');
  const files: SeedFile[] = [
    { path: `${deep}/bottom.txt`, data: 'bottom\n' },
    ...Array.from({ length: 300 }, (_, i) => ({ path: `many/config-fragment-${i}.yaml`, data: `n: ${i}\n` })),
    ...Array.from({ length: 300 }, (_, i) => ({ path: `root-file-number-${i}`, data: `r: ${i}\n` })),
  ];
  const { fsck } = await roundTrip(t, buildFat(files, { date: DATE }), files);
  t.match(fsck, /\d+ root directory entries/);
  t.notMatch(fsck, / 512 root directory entries/, 'the root grew past 512 entries');
});

t.test('deterministic: same input same bytes; SOURCE_DATE_EPOCH; serial', async (t) => {
  const a = buildFat(STANDARD, { date: DATE });
  t.ok(
    Buffer.from(a).equals(buildFat([...STANDARD].reverse(), { date: DATE })),
    'input order does not matter',
  );
  const other = buildFat([...STANDARD, { path: 'extra', data: 'x' }], { date: DATE });
  t.not(Buffer.from(a).readUInt32LE(39), Buffer.from(other).readUInt32LE(39), 'serial follows content');
  const withSerial = await saveImage(
    t.testdir(),
    's.img',
    buildFat(STANDARD, { date: DATE, serial: 0x1234abcd }),
  );
  t.equal((await blkid(withSerial))['UUID'], '1234-ABCD');

  const saved = process.env['SOURCE_DATE_EPOCH'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['SOURCE_DATE_EPOCH'];
    else process.env['SOURCE_DATE_EPOCH'] = saved;
  });
  process.env['SOURCE_DATE_EPOCH'] = '1700000000';
  const b = buildFat(STANDARD);
  t.ok(Buffer.from(b).equals(buildFat(STANDARD)), 'reproducible without a date option');
  const path = await saveImage(t.testdir(), 'sde.img', b);
  t.match(Buffer.from(await mtools('mdir', ['-i', path, '::'])).toString(), /2023-11-14 +22:13 +user-data/);
  process.env['SOURCE_DATE_EPOCH'] = '0';
  const early = await saveImage(t.testdir(), 'zero.img', buildFat(STANDARD));
  t.match(
    Buffer.from(await mtools('mdir', ['-i', early, '::'])).toString(),
    /1980-01-01 +0:00 +user-data/,
    'clamped to 1980',
  );
});

t.test('explicit size, label; too-large content and bad options are refused', async (t) => {
  const sized = buildFat(STANDARD, { date: DATE, size: 4 * MiB, label: 'seed' });
  t.equal(sized.length, 4 * MiB);
  const { path } = await roundTrip(t, sized, STANDARD);
  t.equal((await blkid(path))['LABEL'], 'SEED', 'FAT labels are upper-cased');
  const small = await roundTrip(t, buildFat(STANDARD, { date: DATE, size: 64 * 1024 }), STANDARD);
  t.ok(small.path);

  const big = [{ path: 'big', data: new Uint8Array(2 * MiB) }];
  t.throws(() => buildFat(big, { size: MiB }), {
    code: 'SEED_TOO_LARGE',
    message: /does not fit in a 1048576-byte/,
  });
  try {
    buildFat(big, { size: MiB });
  } catch (error) {
    t.match(isQlaunchError(error) && error.hint, /at least \d+ bytes/);
  }
  for (const size of [1000, 512, 0, -512, 3 * 1024 ** 3, 1.5]) {
    t.throws(() => buildFat(STANDARD, { size }), { code: 'SEED_INVALID' }, `size ${size}`);
  }
  for (const label of ['', 'twelve-chars', 'bad*label', ' lead']) {
    t.throws(() => buildFat(STANDARD, { label }), { code: 'SEED_INVALID' }, `label ${JSON.stringify(label)}`);
  }
  for (const serial of [-1, 2 ** 32, 1.5]) {
    t.throws(() => buildFat(STANDARD, { serial }), { code: 'SEED_INVALID' }, `serial ${serial}`);
  }
});

t.test('names VFAT cannot hold are refused with SEED_INVALID naming the path', async (t) => {
  const cases: [string, SeedFile[]][] = [
    [
      'case-only duplicate',
      [
        { path: 'User-Data', data: '' },
        { path: 'user-data', data: '' },
      ],
    ],
    [
      'case-only duplicate directory',
      [
        { path: 'Dir/a', data: '' },
        { path: 'dir/b', data: '' },
      ],
    ],
    ['forbidden character', [{ path: 'what?', data: '' }]],
    ['colon', [{ path: 'dir/a:b', data: '' }]],
    ['trailing dot', [{ path: 'name.', data: '' }]],
    ['trailing space', [{ path: 'name ', data: '' }]],
    ['UTF-16 too long', [{ path: '😀'.repeat(60) + 'x'.repeat(20), data: '' }]],
  ];
  for (const [what, files] of cases) {
    t.throws(() => buildFat(files, { date: DATE }), { code: 'SEED_INVALID' }, what);
    try {
      buildFat(files, { date: DATE });
    } catch (error) {
      t.ok(
        isQlaunchError(error) && error.message.includes(JSON.stringify(files.at(-1)!.path)),
        `${what}: names the path`,
      );
    }
  }
});
