// Instances started by the CLI run confined: a stored cloud image and the tiny guest, the opt-outs, a sandbox
// violation ending QEMU (seen as a crash), and a guest that powers itself off (seen as stopped, not crashed).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import t from 'tap';
import { alive, cliPath, shortTempDir, testHome } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

const root = process.getuid?.() === 0;

const cli = (home: string) => (args: string[]) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, env: { ...process.env, QLAUNCH_HOME: home } });

function confinementOf(pid: number): { seccomp: number; uid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { seccomp: field('Seccomp'), uid: field('Uid') };
}

async function gone(pid: number): Promise<void> {
  for (let i = 0; i < 600 && alive(pid); i++) await sleep(100);
}

const stateOf = async (q: ReturnType<typeof cli>, name: string) =>
  (JSON.parse((await q(['ls', '--json'])).stdout) as { name: string; state: string }[]).find(
    (i) => i.name === name,
  )?.state;

t.test(
  'an image instance runs confined; a migrate to exec: ends its QEMU, and ls says crashed',
  async (t) => {
    const home = await testHome();
    const q = cli(home);
    const name = `confined-${process.pid}`;
    t.teardown(() => q(['rm', '--force', name]));
    const created = await q([
      'create',
      name,
      '--image',
      'debian-12-local',
      '--accel',
      'tcg',
      '--start',
      '--wait',
      'none',
      '--json',
    ]);
    t.equal(created.exitCode, 0, created.stderr);
    t.notMatch(created.stderr, /warning/, 'nothing given up, nothing to warn about');
    const { pid } = JSON.parse(created.stdout) as { pid: number };
    const confined = confinementOf(pid);
    t.equal(confined.seccomp, 2, 'Seccomp: 2');
    if (root) t.not(confined.uid, 0, 'QEMU dropped root');

    // QEMU would have to start a process for this: the filter kills it instead.
    const migrate = await q(['qmp', name, 'migrate', '{"uri": "exec:cat > /dev/null"}']);
    t.comment(`qmp migrate: exit ${migrate.exitCode} ${migrate.stderr.trim()}`);
    await gone(pid);
    t.notOk(alive(pid), 'QEMU is gone');
    t.equal(await stateOf(q, name), 'crashed');
  },
);

t.test('a confined tiny guest that powers itself off reads as stopped, not crashed', async (t) => {
  const home = shortTempDir(t);
  const q = cli(home);
  const machine = await tinyMachineFile(home, { append: '', ready: 'QLAUNCH-TINY-READY' });
  t.teardown(() => q(['rm', '--force', 'off']));
  t.equal((await q(['create', 'off', '--machine', machine, '--accel', 'tcg'])).exitCode, 0);
  const started = await q(['start', 'off', '--json']);
  t.equal(started.exitCode, 0, started.stderr);
  const { pid } = JSON.parse(started.stdout) as { pid: number };
  await gone(pid);
  t.notOk(alive(pid), 'the guest powered off');
  if (root) t.ok(existsSync(join(home, 'instances', 'off', 'qemu.pid')), 'as nobody QEMU left its pidfile');
  t.equal(await stateOf(q, 'off'), 'stopped');
});

t.test('--no-sandbox and --run-as-root: stored, said, and honoured at every start', async (t) => {
  const home = shortTempDir(t);
  const q = cli(home);
  const machine = await tinyMachineFile(home);
  t.teardown(() => q(['rm', '--force', 'open']));
  const created = await q([
    'create',
    'open',
    '--machine',
    machine,
    '--accel',
    'tcg',
    '--no-sandbox',
    '--run-as-root',
  ]);
  t.equal(created.exitCode, 0, created.stderr);
  t.match(created.stderr, /--no-sandbox: QEMU runs without its seccomp filter/);
  if (root) t.match(created.stderr, /--run-as-root: QEMU keeps running as root/);
  const config = JSON.parse(readFileSync(join(home, 'instances', 'open', 'instance.json'), 'utf8'));
  t.match(config, { sandbox: false, runAsRoot: true });
  const started = await q(['start', 'open', '--json']);
  t.equal(started.exitCode, 0, started.stderr);
  t.match(started.stderr, /--no-sandbox/, 'each start says it again');
  const { pid } = JSON.parse(started.stdout) as { pid: number };
  t.same(confinementOf(pid), { seccomp: 0, uid: process.getuid?.() ?? 0 });
  t.equal((await q(['stop', 'open'])).exitCode, 0);
});
