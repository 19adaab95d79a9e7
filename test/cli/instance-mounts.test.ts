// `create --mount` records the mounts (absolute, with their transport), and `inspect` shows them; no guest boots.
import { chmodSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

t.setTimeout(120_000);

t.test('create --mount, then inspect', async (t) => {
  const home = await testHome();
  const dir = shortTempDir(t);
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'src'), { mode: 0o755 });
  mkdirSync(join(dir, 'out'), { mode: 0o777 });
  const q = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      cwd: dir,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
  const name = `mi-${process.pid}`;
  t.teardown(() => q(['rm', name, '--force']));
  // A relative host path is from the current directory, and recorded absolute.
  const created = await q([
    'create',
    name,
    '--image',
    'debian-12-local',
    '--mount',
    './src:/src:type=9p',
    '--mount',
    `${relative(dir, join(dir, 'out'))}:/out:rw,type=virtiofs`,
  ]);
  t.equal(created.exitCode, 0, created.stderr);
  const json = await q(['inspect', name, '--json']);
  t.same(JSON.parse(json.stdout).config.mounts, [
    { host: join(dir, 'src'), guest: '/src', writable: false, type: '9p', transport: '9p' },
    { host: join(dir, 'out'), guest: '/out', writable: true, type: 'virtiofs', transport: 'virtiofs' },
  ]);
  const human = await q(['inspect', name]);
  t.match(
    human.stdout,
    `\nmounts:   ${join(dir, 'src')} on /src (ro, 9p), ${join(dir, 'out')} on /out (rw, virtiofs)\n`,
  );
});
