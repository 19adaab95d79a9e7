import { execa } from 'execa';
import t, { type Test } from 'tap';
import { buildIso9660 } from '../../lib/cidata/iso9660.js';
import type { SeedFile } from '../../lib/cidata/seed-tree.js';
import { isQlaunchError } from '../../lib/errors.js';
import { blkid, bsdtarExtract, digest, noise, osirroxExtract, readTree, saveImage } from './readers.js';

const DATE = new Date('2024-05-06T07:08:09.120Z');
const SECTOR = 2048;

const STANDARD: SeedFile[] = [
  { path: 'meta-data', data: 'instance-id: iid-local01\nlocal-hostname: qlaunch\n' },
  { path: 'user-data', data: '#cloud-config\npassword: passw0rd\nchpasswd: { expire: False }\n' },
  { path: 'network-config', data: 'version: 2\nethernets:\n  eth0:\n    dhcp4: true\n' },
  { path: 'vendor-data', data: '#cloud-config\n{}\n' },
];

const expected = (files: readonly SeedFile[]) =>
  digest(new Map(files.map((f) => [f.path, typeof f.data === 'string' ? Buffer.from(f.data) : f.data])));

/** Reads the image back with osirrox (RR, Joliet, plain) and bsdtar (RR, Joliet); all must agree with `files`. */
const roundTrip = async (t: Test, image: Uint8Array, files: readonly SeedFile[], jolietFiles = files) => {
  const dir = t.testdir();
  const path = await saveImage(dir, 'seed.iso', image);
  const rr = await osirroxExtract(path, `${dir}/osirrox-rr`);
  t.same(rr.complaints, [], 'xorriso loads the image without complaint');
  t.same(digest(rr.files), expected(files), 'osirrox (Rock Ridge) reads every file back');
  const joliet = await osirroxExtract(path, `${dir}/osirrox-joliet`, 'joliet');
  t.same(digest(joliet.files), expected(jolietFiles), 'osirrox (Joliet) reads every file back');
  const tar = await bsdtarExtract(path, `${dir}/bsdtar`);
  t.equal(tar.exitCode, 0, tar.stderr);
  t.same(digest(tar.files), expected(files), 'bsdtar (Rock Ridge) reads every file back');
  const tarJoliet = await bsdtarExtract(path, `${dir}/bsdtar-joliet`, 'joliet');
  t.same(digest(tarJoliet.files), expected(jolietFiles), 'bsdtar (Joliet) reads every file back');
  return path;
};

const u32 = (image: Uint8Array, at: number): number =>
  Buffer.from(image.buffer, image.byteOffset).readUInt32LE(at);

/** Every record of the directory at (extent, size) lies within one sector; returns the record count. */
const checkDirectorySectors = (t: Test, image: Uint8Array, extent: number, size: number): number => {
  let records = 0;
  for (let sector = extent; sector < extent + size / SECTOR; sector++) {
    let at = 0;
    while (at < SECTOR && image[sector * SECTOR + at]! > 0) {
      const length = image[sector * SECTOR + at]!;
      if (at + length > SECTOR) t.fail(`record at sector ${sector} offset ${at} crosses the sector boundary`);
      at += length;
      records++;
    }
  }
  return records;
};

t.test('standard NoCloud seed: every Debian reader agrees', async (t) => {
  const image = buildIso9660(STANDARD, { date: DATE });
  t.equal(image.length % SECTOR, 0);
  const path = await roundTrip(t, image, STANDARD);

  const id = await blkid(path);
  t.equal(id['LABEL'], 'cidata');
  t.equal(id['TYPE'], 'iso9660');
  t.equal(id['UUID'], '2024-05-06-07-08-09-12', 'blkid derives the UUID from the fixed date');

  const info = await execa('isoinfo', ['-d', '-i', path]);
  t.match(info.stdout, /Volume id: cidata\n/);
  t.match(info.stdout, /Joliet with UCS level 3 found/);
  t.match(info.stdout, /Rock Ridge signatures version 1 found/);
  t.match(info.stdout, new RegExp(`Volume size is: ${image.length / SECTOR}\\n`));

  const rr = await execa('isoinfo', ['-R', '-l', '-i', path]);
  for (const f of STANDARD)
    t.match(rr.stdout, new RegExp(`-rw-r--r-- +1 +0 +0 .* ${f.path} (\\n|$)`), `RR lists ${f.path}`);
  t.match(rr.stdout, /dr-xr-xr-x|drwxr-xr-x/);
  const plain = await execa('isoinfo', ['-l', '-i', path]);
  t.match(plain.stdout, /USER_DAT\.;1/, 'ISO 9660 level 1 names stay 8.3 d-characters');
  t.match(plain.stdout, /NETWORK_\.;1/);
  for (const f of STANDARD) {
    for (const tree of ['-J', '-R']) {
      const { stdout } = await execa('isoinfo', [tree, '-x', `/${f.path}`, '-i', path], {
        encoding: 'buffer',
        stripFinalNewline: false,
      });
      t.equal(Buffer.from(stdout).toString(), f.data, `isoinfo ${tree} -x /${f.path}`);
    }
  }
  // 16 system + 3 descriptors + 4 path tables + 2 root dirs + 1 CE area + 4 files.
  t.equal(image.length, 30 * SECTOR, 'a standard seed is 30 sectors (60 KiB)');
});

t.test('reads the same as a genisoimage -J -R image of the same files', async (t) => {
  const dir = t.testdir(Object.fromEntries(STANDARD.map((f) => [f.path, f.data as string])));
  const reference = `${dir}/genisoimage.iso`;
  await execa('genisoimage', [
    '-quiet',
    '-output',
    reference,
    '-volid',
    'cidata',
    '-joliet',
    '-rock',
    ...STANDARD.map((f) => `${dir}/${f.path}`),
  ]);
  const ours = await saveImage(dir, 'ours.iso', buildIso9660(STANDARD, { date: DATE }));
  for (const tree of ['rockridge', 'joliet', 'ecma119'] as const) {
    const a = await osirroxExtract(reference, `${dir}/a-${tree}`, tree);
    const b = await osirroxExtract(ours, `${dir}/b-${tree}`, tree);
    t.same(digest(b.files), digest(a.files), `${tree} tree matches genisoimage`);
  }
  t.same(
    (await blkid(ours))['LABEL'],
    (await blkid(reference))['LABEL'],
    'same label as genisoimage -V cidata',
  );
});

t.test('file sizes: empty, one sector exactly, one byte over, several MiB', async (t) => {
  const files: SeedFile[] = [
    { path: 'empty', data: '' },
    { path: 'also-empty', data: new Uint8Array(0) },
    { path: 'sector', data: noise(2048, 1) },
    { path: 'sector-plus-one', data: noise(2049, 2) },
    { path: 'big.bin', data: noise(3 * 1024 * 1024 + 17, 3) },
  ];
  const image = buildIso9660(files, { date: DATE });
  await roundTrip(t, image, files);
});

t.test('names up to 255 bytes survive Rock Ridge (via CE areas); Joliet keeps 64 characters', async (t) => {
  const ascii = 'n'.repeat(255);
  const accented = `${'é'.repeat(127)}x`; // 255 UTF-8 bytes, 128 characters
  const withExt = `${'long-name-'.repeat(20)}.yaml`;
  const files: SeedFile[] = [
    { path: ascii, data: 'a' },
    { path: accented, data: 'b' },
    { path: `dir/${withExt}`, data: 'c' },
    { path: 'Mixed Case & spaces (1).txt', data: 'd' },
  ];
  const joliet: SeedFile[] = [
    { path: ascii.slice(0, 64), data: 'a' },
    { path: accented.slice(0, 64), data: 'b' },
    { path: `dir/${withExt.slice(0, 59)}.yaml`, data: 'c' },
    { path: 'Mixed Case & spaces (1).txt', data: 'd' },
  ];
  await roundTrip(t, buildIso9660(files, { date: DATE }), files, joliet);
});

t.test('deep nesting (12 levels) and sibling directories', async (t) => {
  const deep = Array.from({ length: 12 }, (_, i) => `level-${i + 1}`).join('/');
  const files: SeedFile[] = [
    { path: `${deep}/bottom.txt`, data: 'bottom\n' },
    { path: 'level-1/side/file', data: 'side\n' },
    { path: 'top', data: 'top\n' },
  ];
  const image = buildIso9660(files, { date: DATE });
  const path = await roundTrip(t, image, files);
  const rr = await execa('isoinfo', ['-R', '-l', '-i', path]);
  t.match(rr.stdout, /Directory listing of \/level-1\/level-2\/.*\/level-12\//);
});

t.test('a directory of many long-named files spans sectors without splitting a record', async (t) => {
  const files: SeedFile[] = Array.from({ length: 300 }, (_, i) => ({
    path: `many/${'file-with-a-rather-long-name-'.repeat(6)}${String(i).padStart(3, '0')}.cfg`,
    data: `file ${i}\n`,
  }));
  const image = buildIso9660(files, { date: DATE });
  // Joliet cuts names to 64 characters keeping '.cfg'; the first keeps the cut name, the rest are numbered.
  const joliet = files.map((f, i) => {
    const suffix = i === 0 ? '' : `~${i}`;
    return { ...f, path: `many/${f.path.slice(5, 5 + 60 - suffix.length)}${suffix}.cfg` };
  });
  await roundTrip(t, image, files, joliet);
  // Follow PVD root -> 'many' through the L path table to check every directory's sector packing.
  for (const descriptor of [16, 17]) {
    const pd = descriptor * SECTOR;
    const tableSize = u32(image, pd + 132);
    const table = u32(image, pd + 140) * SECTOR;
    let dirs = 0;
    for (let at = table; at < table + tableSize; ) {
      const idLength = image[at]!;
      const extent = u32(image, at + 2);
      const size = u32(image, extent * SECTOR + 10);
      const records = checkDirectorySectors(t, image, extent, size);
      if (idLength > 1) t.equal(records, 302, 'many/ holds . , .. and 300 records');
      if (idLength > 1) t.ok(size > SECTOR, 'many/ spans several sectors');
      at += 8 + idLength + (idLength % 2);
      dirs++;
    }
    t.equal(dirs, 2);
  }
});

t.test('hundreds of directories: path tables span several sectors', async (t) => {
  const files: SeedFile[] = Array.from({ length: 400 }, (_, i) => ({
    path: `directory-number-${i}/sub-${i % 7}/file`,
    data: `${i}\n`,
  }));
  const image = buildIso9660(files, { date: DATE });
  const tableSize = u32(image, 16 * SECTOR + 132);
  t.ok(tableSize > 2 * SECTOR, `primary path table is ${tableSize} bytes`);
  t.ok(u32(image, 17 * SECTOR + 132) > 2 * SECTOR, 'so is the Joliet one');
  const path = await roundTrip(t, image, files);
  // isoinfo -p prints the L path table: number, parent number, extent (hex), identifier.
  for (const flags of [[], ['-J']]) {
    const { stdout } = await execa('isoinfo', [...flags, '-p', '-i', path]);
    const rows = [...stdout.matchAll(/^ *(\d+): +(\d+) +([0-9a-f]+) ?(.*)$/gm)].map((m) => ({
      number: Number(m[1]),
      parent: Number(m[2]),
      extent: Number.parseInt(m[3]!, 16),
    }));
    t.equal(rows.length, 801, `${flags.join('') || 'primary'}: root + 400 + 400 directories`);
    const extentOf = new Map(rows.map((r) => [r.number, r.extent]));
    let ok = true;
    let previousParent = 1;
    for (const r of rows) {
      // '.' of each directory points at itself and '..' at the parent the table names.
      ok &&= u32(image, r.extent * SECTOR + 2) === r.extent;
      ok &&= u32(image, r.extent * SECTOR + image[r.extent * SECTOR]! + 2) === extentOf.get(r.parent);
      ok &&= r.parent >= previousParent;
      previousParent = r.parent;
    }
    t.ok(ok, 'every path table entry matches its directory, parents in order');
  }
});

t.test('same input, same bytes; input order does not matter; SOURCE_DATE_EPOCH is honoured', async (t) => {
  const a = buildIso9660(STANDARD, { date: DATE });
  const b = buildIso9660([...STANDARD].reverse(), { date: DATE });
  t.ok(Buffer.from(a).equals(b), 'identical images');
  const saved = process.env['SOURCE_DATE_EPOCH'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['SOURCE_DATE_EPOCH'];
    else process.env['SOURCE_DATE_EPOCH'] = saved;
  });
  process.env['SOURCE_DATE_EPOCH'] = '1700000000';
  const c = buildIso9660(STANDARD);
  await new Promise((r) => setTimeout(r, 20));
  const d = buildIso9660(STANDARD);
  t.ok(Buffer.from(c).equals(d), 'reproducible without a date option');
  const id = await blkid(await saveImage(t.testdir(), 'sde.iso', c));
  t.equal(id['UUID'], '2023-11-14-22-13-20-00', 'volume dates come from SOURCE_DATE_EPOCH');
  t.ok(Buffer.from(buildIso9660(STANDARD, { date: DATE })).equals(a), 'an explicit date still wins');
});

t.test('custom label and empty image', async (t) => {
  const path = await saveImage(t.testdir(), 'l.iso', buildIso9660([], { label: 'CONFIG-2', date: DATE }));
  t.equal((await blkid(path))['LABEL'], 'CONFIG-2');
  const rr = await osirroxExtract(path, `${path}.d`);
  t.same(rr.complaints, []);
  t.equal(rr.files.size, 0);
  t.same(await readTree(`${path}.d`), new Map());
});

t.test('bad input is refused with SEED_INVALID naming the path', async (t) => {
  const cases: [string, SeedFile[]][] = [
    ['empty name', [{ path: 'dir//x', data: '' }]],
    ['leading slash', [{ path: '/etc/passwd', data: '' }]],
    ['trailing slash', [{ path: 'dir/', data: '' }]],
    ['empty path', [{ path: '', data: '' }]],
    ['dot-dot', [{ path: 'a/../b', data: '' }]],
    ['dot', [{ path: './a', data: '' }]],
    ['control character', [{ path: 'a\nb', data: '' }]],
    ['NUL', [{ path: 'a\0b', data: '' }]],
    ['lone surrogate', [{ path: 'a\ud800b', data: '' }]],
    ['name too long', [{ path: `d/${'x'.repeat(256)}`, data: '' }]],
    ['name too long in UTF-8', [{ path: 'é'.repeat(128), data: '' }]],
    [
      'duplicate',
      [
        { path: 'a/b', data: '1' },
        { path: 'a/b', data: '2' },
      ],
    ],
    [
      'file then directory',
      [
        { path: 'a', data: '1' },
        { path: 'a/b', data: '2' },
      ],
    ],
    [
      'directory then file',
      [
        { path: 'a/b', data: '1' },
        { path: 'a', data: '2' },
      ],
    ],
    ['bad data', [{ path: 'a', data: 42 as unknown as string }]],
  ];
  for (const [what, files] of cases) {
    t.throws(() => buildIso9660(files, { date: DATE }), { code: 'SEED_INVALID' }, what);
    try {
      buildIso9660(files, { date: DATE });
    } catch (error) {
      t.ok(
        isQlaunchError(error) && error.message.includes(JSON.stringify(files.at(-1)!.path)),
        `${what}: names the path`,
      );
      t.ok(isQlaunchError(error) && error.hint, `${what}: has a hint`);
    }
  }
  t.throws(() => buildIso9660(STANDARD, { label: 'has space', date: DATE }), { code: 'SEED_INVALID' });
  t.throws(() => buildIso9660(STANDARD, { label: 'x'.repeat(33), date: DATE }), { code: 'SEED_INVALID' });
  t.throws(() => buildIso9660(STANDARD, { date: new Date(Number.NaN) }), { code: 'SEED_INVALID' });
});
