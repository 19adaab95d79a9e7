// The newc writer against GNU cpio: what it lists and unpacks is what went in.
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { buildCpio } from '../../lib/initramfs/cpio.js';

const entries = [
  { kind: 'dir' as const, path: 'bin' },
  { kind: 'dir' as const, path: '/dev' },
  { kind: 'char' as const, path: 'dev/console', major: 5, minor: 1 },
  { kind: 'file' as const, path: 'bin/tool', data: Buffer.from('#!/bin/sh\necho odd length\n'), mode: 0o755 },
  { kind: 'file' as const, path: 'empty', data: Buffer.alloc(0) },
  { kind: 'file' as const, path: 'bin/abc', data: Buffer.from([1, 2, 3]) },
  { kind: 'symlink' as const, path: 'bin/sh', target: 'tool' },
];

t.test('GNU cpio lists and unpacks every member as written', async (t) => {
  const archive = buildCpio(entries);
  t.equal(archive.length % 4, 0, 'members are padded to 4 bytes');
  const listed = await execa('cpio', ['-t', '--quiet'], { input: archive });
  t.same(listed.stdout.split('\n'), ['bin', 'dev', 'dev/console', 'bin/tool', 'empty', 'bin/abc', 'bin/sh']);
  const verbose = await execa('cpio', ['-tv', '--quiet'], { input: archive });
  t.match(verbose.stdout, /^crw------- .* 5,\s*1 .* dev\/console$/m, 'a character device 5:1');
  t.match(verbose.stdout, /^lrwxrwxrwx .* bin\/sh -> tool$/m);
  const dir = mkdtempSync(join(tmpdir(), 'qlcpio-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // No device nodes unpacked: the test need not be root for that part.
  await execa(
    'cpio',
    ['-id', '--quiet', '--no-absolute-filenames', '-D', dir, '--nonmatching', 'dev/console'],
    {
      input: archive,
    },
  );
  t.equal(readFileSync(join(dir, 'bin/tool'), 'utf8'), '#!/bin/sh\necho odd length\n');
  t.equal(statSync(join(dir, 'bin/tool')).mode & 0o777, 0o755);
  t.same([...readFileSync(join(dir, 'bin/abc'))], [1, 2, 3]);
  t.equal(readFileSync(join(dir, 'empty')).length, 0);
  t.equal(readlinkSync(join(dir, 'bin/sh')), 'tool');
});

t.test('the same entries give the same bytes', async (t) => {
  t.same(buildCpio(entries), buildCpio(entries));
});

t.test('a path that would leave the archive root is refused', async (t) => {
  t.throws(() => buildCpio([{ kind: 'dir', path: '../x' }]), /not a plain relative path/);
  t.throws(() => buildCpio([{ kind: 'dir', path: 'a//b' }]), /not a plain relative path/);
  t.throws(() => buildCpio([{ kind: 'dir', path: '/' }]), /not a plain relative path/);
});
