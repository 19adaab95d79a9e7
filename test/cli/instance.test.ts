// Named instances through the CLI: they outlive the command that started them, and every command finds them again.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { alive, cliPath, shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

function cli(home: string) {
  return (args: string[], options: { input?: string } = {}) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: home },
      ...(options.input === undefined ? {} : { input: options.input }),
    });
}

const listed = (stdout: string) => JSON.parse(stdout) as { name: string; state: string; pid?: number }[];

t.test('create, start (detached), ls, qmp, logs, console, stop, rm', async (t) => {
  const home = shortTempDir(t);
  const q = cli(home);
  const machine = await tinyMachineFile(home);
  t.teardown(() => q(['rm', '--force', 'box']));

  const created = await q(['create', 'box', '--machine', machine, '--accel', 'tcg']);
  t.equal(created.exitCode, 0, created.stderr);
  t.match(created.stderr, /created box \(x86_64\); start it with: qlaunch start box/);
  t.equal(readdirSync(join(home, 'instances', 'box')).includes('instance.json'), true);

  const started = await q(['start', 'box', '--json']);
  t.equal(started.exitCode, 0, started.stderr);
  const { pid } = JSON.parse(started.stdout) as { pid: number };
  t.ok(alive(pid), 'QEMU outlives the start command');

  const ls = await q(['ls', '--json']);
  t.match(listed(ls.stdout), [{ name: 'box', state: 'running', pid }]);
  const table = await q(['ls']);
  t.match(table.stdout, /^NAME\s+STATE.*\nbox\s+running\s+x86_64/);

  const status = await q(['qmp', 'box', 'query-status']);
  t.equal(status.exitCode, 0, status.stderr);
  t.match(JSON.parse(status.stdout), { status: 'running', running: true });
  const badArgs = await q(['qmp', 'box', 'query-status', '{oops']);
  t.equal(badArgs.exitCode, 2);
  t.match(badArgs.stderr, /QMP arguments are not JSON/);
  const unknown = await q(['qmp', 'box', 'no-such-command']);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.stderr, /no-such-command/);

  const logs = await q(['logs', 'box']);
  t.match(logs.stdout, /QLAUNCH-TINY-READY[\s\S]*QLAUNCH-HOLDING/);
  const journal = await q(['logs', 'box', '--source', 'qlaunch', '-n', '1']);
  t.match(JSON.parse(journal.stdout.trim()), { instance: 'box', msg: 'instance started' });

  // The console: attached through a pipe, the power-off it sees ends it.
  const consoleRun = execa(process.execPath, [cliPath, 'console', 'box'], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });
  await new Promise<void>((resolve) =>
    consoleRun.stderr?.on('data', (d: Buffer) => d.includes('connected') && resolve()),
  );
  const stop = await q(['stop', 'box']);
  t.equal(stop.exitCode, 0, stop.stderr);
  t.match(stop.stderr, /box stopped \(guest-shutdown\)/);
  const attached = await consoleRun;
  t.equal(attached.exitCode, 0);
  t.match(attached.stdout, 'QLAUNCH-POWERDOWN', 'the console showed the guest shutting down');
  t.notOk(alive(pid));

  const rm = await q(['rm', 'box']);
  t.equal(rm.exitCode, 0, rm.stderr);
  t.notOk(existsSync(join(home, 'instances', 'box')));
});

t.test('console detaches on Ctrl-]', async (t) => {
  const home = shortTempDir(t);
  const q = cli(home);
  await q(['create', 'box', '--machine', await tinyMachineFile(home), '--accel', 'tcg', '--start']);
  t.teardown(() => q(['rm', '--force', 'box']));
  const attached = await q(['console', 'box'], { input: '\u001d' });
  t.equal(attached.exitCode, 0, attached.stderr);
  t.match(attached.stderr, /detached from box's console/);
  t.match(
    listed((await q(['ls', '--json'])).stdout),
    [{ name: 'box', state: 'running' }],
    'detaching leaves it running',
  );
});

t.test('faults: a CLI killed in the middle of start, rm of a running instance, bad names', async (t) => {
  const home = shortTempDir(t);
  const q = cli(home);
  const machine = await tinyMachineFile(home);
  t.equal((await q(['create', 'box', '--machine', machine, '--accel', 'tcg'])).exitCode, 0);
  t.teardown(() => q(['rm', '--force', 'box']));

  // SIGKILL `start` once QEMU exists but before the guest is ready: the next command must see the truth.
  const start = execa(process.execPath, [cliPath, 'start', 'box'], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
  });
  const pidFile = join(home, 'instances', 'box', 'qemu.pid');
  while (!existsSync(pidFile)) await new Promise((resolve) => setTimeout(resolve, 5));
  start.kill('SIGKILL');
  await start;
  const pid = Number(readFileSync(pidFile, 'utf8'));
  t.ok(alive(pid), 'QEMU is detached: killing the CLI does not take it down');
  const [entry] = listed((await q(['ls', '--json'])).stdout);
  t.ok(entry?.state === 'running' || entry?.state === 'paused', `state is ${entry?.state}`);
  t.equal(entry?.pid, pid);
  // `start` again picks it up (resuming it if the kill came before `cont`) and waits for it to be ready.
  const resumed = await q(['start', 'box']);
  t.equal(resumed.exitCode, 0, resumed.stderr);
  t.match(resumed.stderr, /already running/);

  const refused = await q(['rm', 'box']);
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /instance box is running; not removing it\n\s+fix: .*--force/);
  t.ok(existsSync(join(home, 'instances', 'box', 'instance.json')), 'nothing deleted');
  t.ok(alive(pid));

  for (const name of ['../x', 'a b', 'x'.repeat(200)]) {
    const bad = await q(['create', name, '--machine', machine]);
    t.equal(bad.exitCode, 1);
    t.match(bad.stderr, /is not allowed\n\s+fix: use 1 to 63 lower-case letters/);
  }
  const missing = await q(['start', 'bxo']);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /no instance named bxo[\s\S]*did you mean 'box'/i);
  const forced = await q(['rm', '--force', 'box']);
  t.equal(forced.exitCode, 0, forced.stderr);
  t.notOk(alive(pid));
  t.same(readdirSync(join(home, 'instances')), []);
});
