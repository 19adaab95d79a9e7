import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import {
  assertOutDirFree,
  createStaging,
  mountsUnder,
  publish,
  removeStaleStaging,
  removeTree,
  stagingPid,
} from '../../lib/image/staging.js';

const MOUNTINFO = `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
97 22 0:5 / /build/out\\040dir/root/proc rw - proc proc rw
98 22 0:6 / /build/out\\040dir/root/sys rw - sysfs sysfs rw
99 22 0:7 / /build/out\\040dirty rw - tmpfs tmpfs rw
`;

t.test('mounts below a directory, with mountinfo escapes undone', async (t) => {
  t.same(mountsUnder(MOUNTINFO, '/build/out dir'), ['/build/out dir/root/proc', '/build/out dir/root/sys']);
  t.same(mountsUnder(MOUNTINFO, '/build/out dir/'), ['/build/out dir/root/proc', '/build/out dir/root/sys']);
  t.same(mountsUnder(MOUNTINFO, '/build/out dirty'), ['/build/out dirty']);
  t.same(mountsUnder(MOUNTINFO, '/elsewhere'), []);
  t.same(mountsUnder('', '/x'), []);
});

t.test('staging names carry the pid of their builder', async (t) => {
  t.equal(stagingPid('.img.build-1234-AbC123', '/c/img'), 1234);
  t.equal(stagingPid('.img.build-x-AbC123', '/c/img'), undefined);
  t.equal(stagingPid('.other.build-1234-AbC123', '/c/img'), undefined);
  t.equal(stagingPid('img', '/c/img'), undefined);
});

t.test('staging is private, beside the output, and published by rename', async (t) => {
  const dir = t.testdir();
  const outDir = join(dir, 'debian-12-x86_64');
  const staging = await createStaging(outDir);
  t.equal(dirname(staging), dir);
  t.equal(stagingPid(basename(staging), outDir), process.pid);
  t.equal((await stat(staging)).mode & 0o777, 0o700);
  await mkdir(join(staging, 'out'));
  await writeFile(join(staging, 'out', 'manifest.json'), '{}');
  await mkdir(outDir);
  await publish(join(staging, 'out'), outDir);
  t.same(await readdir(outDir), ['manifest.json'], 'an empty output dir is replaced');
  await t.rejects(assertOutDirFree(outDir), { code: 'IMAGE_BUILD_INVALID', message: /not empty/ });
  await t.rejects(publish(staging, outDir), { code: 'IMAGE_BUILD_INVALID' });
  await assertOutDirFree(join(dir, 'new'));
  await t.rejects(assertOutDirFree(join(dir, 'debian-12-x86_64', 'manifest.json')), {
    code: 'IMAGE_BUILD_INVALID',
    message: /cannot use/,
  });
});

t.test('removeTree removes read-only directories too', async (t) => {
  const dir = join(t.testdir(), 'tree');
  await mkdir(join(dir, 'a', 'b'), { recursive: true });
  await writeFile(join(dir, 'a', 'b', 'f'), 'x');
  await execa('chmod', ['-R', 'a-w', dir]);
  await removeTree(dir);
  await t.rejects(stat(dir), { code: 'ENOENT' });
  await removeTree(dir);
});

t.test('stale staging of a dead builder goes; a live builder keeps its own', async (t) => {
  const dir = t.testdir();
  const outDir = join(dir, 'img');
  const exited = execa('true');
  await exited;
  const deadPid = exited.pid;
  const dead = join(dir, `.img.build-${deadPid}-aaaaaa`);
  const live = join(dir, `.img.build-${process.ppid}-bbbbbb`);
  const mine = join(dir, `.img.build-${process.pid}-cccccc`);
  const other = join(dir, `.other.build-${deadPid}-dddddd`);
  for (const d of [dead, live, mine, other]) await mkdir(join(d, 'root'), { recursive: true });
  t.same(await removeStaleStaging(outDir), [dead]);
  t.same((await readdir(dir)).sort(), [basename(live), basename(mine), basename(other)].sort());
  t.same(await removeStaleStaging(join(dir, 'missing-parent', 'img')), []);
});
