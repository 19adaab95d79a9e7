// An instance with host directories (created and started by the CLI): mounted on every start, its virtiofsd gone
// with each stop, and bad --mount values refused by `create` with nothing made.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { alive, cliPath, processesMentioning, testHome } from '../fixtures/guests.js';

t.setTimeout(1_200_000);

t.test('an instance keeps its mounts across stop and start; nothing is left after stop', async (t) => {
  const home = await testHome();
  const root = join(home, 'instances');
  const q = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
  const shared = mkdtempSync(join(tmpdir(), 'qli-'));
  chmodSync(shared, 0o755);
  t.teardown(() => rmSync(shared, { recursive: true, force: true }));
  for (const name of ['vf', 'p9']) {
    mkdirSync(join(shared, name));
    chmodSync(join(shared, name), 0o777);
    writeFileSync(join(shared, name, 'hello.txt'), `hello over ${name}\n`);
  }
  const name = `mnt-${process.pid}`;
  t.teardown(() => Instance.destroy(name, { root, force: true }).catch(() => {}));

  // Bad input: nothing is made.
  const missing = await q(['create', name, '--image', 'debian-12-local', '--mount', join(shared, 'nope')]);
  t.not(missing.exitCode, 0, 'a missing host directory is refused');
  t.match(missing.stderr, `host directory ${join(shared, 'nope')} does not exist`);
  const twice = await q([
    'create',
    name,
    '--image',
    'debian-12-local',
    '--mount',
    `${shared}/vf:/x`,
    '--mount',
    `${shared}/p9:/x`,
  ]);
  t.not(twice.exitCode, 0);
  t.match(twice.stderr, 'guest path /x is mounted twice');
  t.notOk(existsSync(join(root, name)), 'no instance directory was made');

  const created = await q([
    'create',
    name,
    '--image',
    'debian-12-local',
    '--cpus',
    '2',
    '--accel',
    'tcg',
    '--mount',
    `${shared}/vf:/mnt/vf:rw,type=virtiofs`,
    '--mount',
    `${shared}/p9:/mnt/p9:rw,type=9p`,
  ]);
  t.equal(created.exitCode, 0, created.stderr);
  const config = JSON.parse(readFileSync(join(root, name, 'instance.json'), 'utf8'));
  t.same(config.mounts, [
    { host: `${shared}/vf`, guest: '/mnt/vf', writable: true, type: 'virtiofs', transport: 'virtiofs' },
    { host: `${shared}/p9`, guest: '/mnt/p9', writable: true, type: '9p', transport: '9p' },
  ]);

  for (const round of [1, 2]) {
    const started = await q(['start', name, '--json']);
    t.equal(started.exitCode, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    t.ok(processesMentioning(`source=${shared}/vf`).length > 0, `start ${round}: virtiofsd outlives the CLI`);
    t.equal(
      statSync(join(root, name, 'vfs-m0.sock')).mode & 0o777,
      0o600,
      `start ${round}: its socket is 0600`,
    );
    const web = await Instance.open(name, { root });
    for (const dir of ['vf', 'p9']) {
      const read = await web.exec(['cat', `/mnt/${dir}/hello.txt`]);
      t.equal(read.stdout.toString(), `hello over ${dir}\n`, `start ${round}: /mnt/${dir} is mounted`);
      const write = await web.exec(['sh', '-c', `echo ${round} > /mnt/${dir}/round.txt`]);
      t.equal(write.exitCode, 0);
      t.equal(
        readFileSync(join(shared, dir, 'round.txt'), 'utf8'),
        `${round}\n`,
        `start ${round}: /mnt/${dir} writes reach the host`,
      );
    }
    const stopped = await q(['stop', name]);
    t.equal(stopped.exitCode, 0, stopped.stderr);
    t.notOk(alive(pid), `stop ${round}: no QEMU left`);
    t.same(processesMentioning(shared), [], `stop ${round}: no virtiofsd left`);
    t.same(
      readdirSync(join(root, name)).filter((f) => f.endsWith('.sock')),
      [],
      `stop ${round}: no socket left`,
    );
  }
  t.ok(existsSync(join(root, name, 'virtiofsd.log')), "virtiofsd's log is in the instance's logs");
});
