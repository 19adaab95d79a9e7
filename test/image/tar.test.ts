import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { ancestorDirectories, ustarArchive } from '../../lib/image/tar.js';

t.test('GNU tar lists and extracts what ustarArchive writes, owned by root', async (t) => {
  const dir = t.testdir();
  const content = 'MODULES=list\n';
  const big = 'x'.repeat(1300);
  const archive = ustarArchive(
    [
      ...ancestorDirectories(['etc/initramfs-tools/conf.d/qlaunch.conf', 'etc/big']),
      { path: 'etc/initramfs-tools/conf.d/qlaunch.conf', type: 'file', mode: 0o644, content },
      { path: 'etc/big', type: 'file', mode: 0o600, content: new TextEncoder().encode(big) },
      { path: 'etc/empty', type: 'file', mode: 0o640 },
    ],
    1_700_000_000,
  );
  t.equal(archive.length % 512, 0, 'whole blocks');
  const file = join(dir, 'a.tar');
  await writeFile(file, archive);
  const { stdout } = await execa('tar', ['--list', '--verbose', '--numeric-owner', '--file', file], {
    env: { TZ: 'UTC' },
  });
  const lines = stdout.split('\n');
  t.equal(lines.length, 6);
  t.match(lines[0], /^drwxr-xr-x 0\/0 +0 2023-11-14 22:13 etc\/$/);
  t.match(lines[3], /^-rw-r--r-- 0\/0 +13 .* etc\/initramfs-tools\/conf\.d\/qlaunch\.conf$/);
  t.match(lines[4], /^-rw------- 0\/0 +1300 .* etc\/big$/);
  t.match(lines[5], /^-rw-r----- 0\/0 +0 .* etc\/empty$/);

  const out = join(dir, 'out');
  await mkdir(out);
  await execa('tar', ['--extract', '--file', file, '--directory', out]);
  t.equal(await readFile(join(out, 'etc/initramfs-tools/conf.d/qlaunch.conf'), 'utf8'), content);
  t.equal(await readFile(join(out, 'etc/big'), 'utf8'), big);
  t.equal((await stat(join(out, 'etc/big'))).mode & 0o777, 0o600);
});

t.test('an empty archive is just the end marker', async (t) => {
  t.same(ustarArchive([], 0), Buffer.alloc(1024));
});

t.test('names that could escape or do not fit are refused', async (t) => {
  for (const path of ['/etc/passwd', 'etc/../../x', 'a'.repeat(101)]) {
    t.throws(
      () => ustarArchive([{ path, type: 'file', mode: 0o644, content: '' }], 0),
      { name: 'QlaunchError', code: 'IMAGE_BUILD_INVALID' },
      path.slice(0, 20),
    );
  }
});

t.test('ancestorDirectories: parents first, each once, 0755', async (t) => {
  t.same(
    ancestorDirectories(['etc/a/b', 'etc/a/c', 'etc/d', 'top']).map((e) => [e.path, e.type, e.mode]),
    [
      ['etc', 'directory', 0o755],
      ['etc/a', 'directory', 0o755],
    ],
  );
});
