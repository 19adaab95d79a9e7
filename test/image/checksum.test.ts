import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import t from 'tap';
import {
  checksumForFile,
  checksumInFile,
  formatChecksum,
  hashFile,
  parseChecksum,
  parseChecksumFile,
  sameChecksum,
} from '../../lib/image/checksum.js';

const H256 = 'a'.repeat(64);
const H512 = 'b'.repeat(128);

t.test('sha256:HEX and sha512:HEX parse, in any case; anything else says what is wanted', async (t) => {
  t.same(parseChecksum(`sha256:${H256}`), { algorithm: 'sha256', hex: H256 });
  t.same(parseChecksum(` SHA512:${H512.toUpperCase()}\n`), { algorithm: 'sha512', hex: H512 });
  for (const bad of [
    H256,
    `sha256:${H512}`,
    `sha512:${H256}`,
    `md5:${'a'.repeat(32)}`,
    `sha256:${'g'.repeat(64)}`,
    '',
  ]) {
    t.throws(() => parseChecksum(bad), {
      code: 'IMAGE_CHECKSUM_INVALID',
      message: /is not sha256:HEX or sha512:HEX/,
    });
  }
  t.equal(formatChecksum({ algorithm: 'sha256', hex: H256 }), `sha256:${H256}`);
  t.ok(sameChecksum(parseChecksum(`sha256:${H256}`), { algorithm: 'sha256', hex: H256 }));
  t.notOk(sameChecksum({ algorithm: 'sha256', hex: H256 }, { algorithm: 'sha512', hex: H256 }));
});

t.test('checksum files: GNU text and binary lines, BSD lines, escapes; other lines skipped', async (t) => {
  const text = [
    `${H512}  debian-12-genericcloud-amd64.qcow2`,
    `${H256.toUpperCase()} *noble-server-cloudimg-amd64.img`,
    `${'c'.repeat(32)}  old-md5.img`,
    `SHA256 (Fedora-Cloud-Base.qcow2) = ${'d'.repeat(64)}`,
    `SHA512 (Fedora-Cloud-Base.qcow2)= ${'e'.repeat(128)}`,
    `SHA256 (short.img) = ${'d'.repeat(10)}`,
    `\\${'f'.repeat(64)}  back\\\\slash\\nname.img`,
    '# Fedora-Cloud-Base.qcow2: 123 bytes',
    '-----BEGIN PGP SIGNATURE-----',
    '',
  ].join('\r\n');
  t.same(parseChecksumFile(text), [
    { name: 'debian-12-genericcloud-amd64.qcow2', checksum: { algorithm: 'sha512', hex: H512 } },
    { name: 'noble-server-cloudimg-amd64.img', checksum: { algorithm: 'sha256', hex: H256 } },
    { name: 'Fedora-Cloud-Base.qcow2', checksum: { algorithm: 'sha256', hex: 'd'.repeat(64) } },
    { name: 'Fedora-Cloud-Base.qcow2', checksum: { algorithm: 'sha512', hex: 'e'.repeat(128) } },
    { name: 'back\\slash\nname.img', checksum: { algorithm: 'sha256', hex: 'f'.repeat(64) } },
  ]);
});

t.test(
  'the entry for a file: exact name first, SHA-512 preferred, conflicts and absence are errors',
  async (t) => {
    const entries = parseChecksumFile(
      [
        `${'1'.repeat(64)}  sub/disk.img`,
        `${'2'.repeat(64)}  ./disk.img`,
        `${'3'.repeat(128)}  both.img`,
        `${'4'.repeat(64)}  both.img`,
        `${'5'.repeat(64)}  twice.img`,
        `${'6'.repeat(64)}  twice.img`,
        `${'7'.repeat(64)}  only/in/dir.img`,
        `${'8'.repeat(32)}  md5only.img`,
      ].join('\n'),
    );
    t.same(checksumForFile(entries, 'disk.img', 'S'), { algorithm: 'sha256', hex: '2'.repeat(64) });
    t.same(checksumForFile(entries, 'both.img', 'S'), { algorithm: 'sha512', hex: '3'.repeat(128) });
    t.same(checksumForFile(entries, 'dir.img', 'S'), { algorithm: 'sha256', hex: '7'.repeat(64) });
    t.throws(() => checksumForFile(entries, 'twice.img', 'http://x/SUMS'), {
      code: 'IMAGE_CHECKSUM_INVALID',
      message: 'http://x/SUMS gives twice.img more than one sha256 checksum',
    });
    t.throws(() => checksumForFile(entries, 'md5only.img', 'http://x/SUMS'), {
      code: 'IMAGE_CHECKSUM_INVALID',
      message: 'http://x/SUMS lists no sha256 or sha512 checksum for md5only.img',
    });
    t.throws(() => checksumForFile([], 'a.img', 'S'), { code: 'IMAGE_CHECKSUM_INVALID' });
  },
);

t.test('lines as coreutils writes them (made up), the parser reads back', async (t) => {
  fc.assert(
    fc.property(
      fc.constantFrom('sha256' as const, 'sha512' as const),
      fc.uint8Array({ minLength: 32, maxLength: 64 }),
      fc.stringMatching(/^[A-Za-z0-9._-]{1,40}$/),
      fc.boolean(),
      fc.boolean(),
      (algorithm, bytes, name, binary, bsd) => {
        const hex = createHash(algorithm).update(bytes).digest('hex');
        const line = bsd
          ? `${algorithm.toUpperCase()} (${name}) = ${hex}`
          : `${hex} ${binary ? '*' : ' '}${name}`;
        const found = checksumForFile(parseChecksumFile(`${line}\n`), name, 'S');
        return found.algorithm === algorithm && found.hex === hex;
      },
    ),
  );
  t.pass('every generated line parsed back');
});

t.test(
  "coreutils' own sha256sum, sha512sum and --tag output, names with spaces and backslashes",
  async (t) => {
    const dir = t.testdir({ 'disk one.img': 'one', 'back\\slash.qcow2': 'two' });
    for (const [tool, args] of [
      ['sha256sum', []],
      ['sha512sum', ['--binary']],
      ['sha256sum', ['--tag']],
      ['sha512sum', ['--tag']],
    ] as const) {
      const { stdout } = await execa(tool, [...args, 'disk one.img', 'back\\slash.qcow2'], { cwd: dir });
      for (const name of ['disk one.img', 'back\\slash.qcow2']) {
        t.same(
          checksumForFile(parseChecksumFile(stdout), name, tool),
          await hashFile(join(dir, name), tool === 'sha256sum' ? 'sha256' : 'sha512'),
          `${tool} ${args.join(' ')}: ${name}`,
        );
      }
    }
  },
);

t.test('checksum files as vendors and tools write them: BOM, OpenSSL lines, a bare digest', async (t) => {
  const cases: [string, string, string | undefined][] = [
    ['UTF-8 BOM before a GNU line', `\uFEFF${H256}  disk.img\n`, `sha256:${H256}`],
    ['UTF-8 BOM before a BSD line', `\uFEFFSHA512 (disk.img) = ${H512}\r\n`, `sha512:${H512}`],
    ['OpenSSL 1.x SHA256(file)= HEX', `SHA256(disk.img)= ${H256}\n`, `sha256:${H256}`],
    ['OpenSSL 1.x SHA512(file)= HEX', `SHA512(disk.img)= ${H512}\n`, `sha512:${H512}`],
    ['OpenSSL 3 SHA2-256(file)= HEX', `SHA2-256(disk.img)= ${H256.toUpperCase()}\n`, `sha256:${H256}`],
    ['OpenSSL 3 SHA2-512(file)= HEX, BOM', `\uFEFFSHA2-512(disk.img)= ${H512}`, `sha512:${H512}`],
    ['OpenSSL line for another file', `SHA256(other.img)= ${H256}\n`, undefined],
    ['a bare sha256 digest', `${H256}\n`, `sha256:${H256}`],
    ['a bare sha512 digest with BOM and CRLF', `\uFEFF${H512.toUpperCase()}\r\n`, `sha512:${H512}`],
    ['a bare digest among other words', `${H256} is the digest\n`, undefined],
    ['two bare digests', `${H256}\n${'c'.repeat(64)}\n`, undefined],
    ['a bare digest of the wrong length', `${'d'.repeat(40)}\n`, undefined],
  ];
  for (const [what, text, expected] of cases) {
    if (expected === undefined) {
      t.throws(() => checksumInFile(text, 'disk.img', 'S'), { code: 'IMAGE_CHECKSUM_INVALID' }, what);
    } else {
      t.equal(formatChecksum(checksumInFile(text, 'disk.img', 'S')), expected, what);
    }
  }
});

t.test("openssl dgst's own output reads back", async (t) => {
  const dir = t.testdir({ 'disk.img': 'one' });
  for (const algorithm of ['sha256', 'sha512'] as const) {
    const { stdout } = await execa('openssl', ['dgst', `-${algorithm}`, 'disk.img'], { cwd: dir });
    t.same(checksumInFile(stdout, 'disk.img', 'openssl'), await hashFile(join(dir, 'disk.img'), algorithm));
  }
});

t.test('hashFile streams a file through the digest', async (t) => {
  const dir = t.testdir();
  const data = Buffer.alloc(300_000, 7);
  writeFileSync(join(dir, 'f'), data);
  t.same(await hashFile(join(dir, 'f'), 'sha256'), {
    algorithm: 'sha256',
    hex: createHash('sha256').update(data).digest('hex'),
  });
  t.equal((await hashFile(join(dir, 'f'), 'sha512')).hex, createHash('sha512').update(data).digest('hex'));
});
