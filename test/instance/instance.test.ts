// Named instances on the tiny guest: the whole lifecycle and its faults, through the library.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { alive, shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

t.test('lifecycle: create, start, stop, start again, crash, remove', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root);
  const options = { root };
  const dev = await Instance.create({ name: 'dev', machine, accel: 'tcg' }, options);
  t.teardown(() => Instance.destroy('dev', { ...options, force: true }).catch(() => {}));
  t.match(await dev.status(), { state: 'stopped' });
  await t.rejects(Instance.create({ name: 'dev', machine }, options), { code: 'INSTANCE_EXISTS' });
  await t.rejects(Instance.open('dve', options), { code: 'INSTANCE_NOT_FOUND', hint: /did you mean 'dev'/i });

  const started = await dev.start();
  t.ok(started.started);
  t.ok(alive(started.pid), 'QEMU runs');
  t.equal(statSync(dev.paths.dir).mode & 0o777, 0o700, 'the instance directory is private');
  for (const file of ['qmp', 'serial', 'guestAgent', 'key', 'config', 'pid'] as const) {
    t.equal(statSync(dev.paths[file]).mode & 0o777, 0o600, `${file} is 0600`);
  }
  t.match(await dev.status(), { state: 'running', pid: started.pid, qemuStatus: 'running' });
  t.match(await dev.qmp('query-status'), { status: 'running' });
  const again = await dev.start();
  t.notOk(again.started, 'a second start finds it running');
  t.equal(again.pid, started.pid);
  // A start killed between spawning QEMU and recording it: the next start rebuilds the record from QEMU.
  rmSync(dev.paths.runtime);
  t.match(await dev.start(), { started: false, pid: started.pid });
  t.match(JSON.parse(readFileSync(dev.paths.runtime, 'utf8')), { pid: started.pid, accel: 'tcg' });

  // Ports at runtime: QEMU itself is asked which forwards exist.
  const forward = await dev.addPort('0:80');
  t.equal(forward.hostAddress, '127.0.0.1');
  t.match(await dev.listPorts(), [{ hostPort: forward.hostPort, guestPort: 80 }]);
  t.same(await dev.removePort(forward.hostPort), forward);
  t.same(await dev.listPorts(), []);
  await t.rejects(dev.removePort(forward.hostPort), { code: 'VM_PORT_FORWARD' });

  // A running instance is not removed without force, and nothing of it is touched.
  const before = readdirSync(dev.paths.dir).sort();
  await t.rejects(dev.remove(), { code: 'INSTANCE_RUNNING', hint: /--force/ });
  t.same(readdirSync(dev.paths.dir).sort(), before);
  t.ok(alive(started.pid));

  const stopped = await dev.stop();
  t.match(stopped, { how: 'guest-shutdown', was: 'running' });
  t.notOk(alive(started.pid));
  for (const file of ['pid', 'runtime', 'qmp', 'serial', 'guestAgent'] as const) {
    t.notOk(existsSync(dev.paths[file]), `${file} is gone after a clean stop`);
  }
  t.match(await dev.stop(), { how: undefined, was: 'stopped' }, 'stopping a stopped instance only says so');
  await t.rejects(dev.qmp('query-status'), { code: 'INSTANCE_NOT_RUNNING' });

  // A killed QEMU is seen as crashed, never trusted, and starts again.
  const second = await dev.start();
  process.kill(second.pid, 'SIGKILL');
  await waitGone(second.pid);
  t.match(await dev.status(), { state: 'crashed' });
  const third = await dev.start();
  t.ok(third.started);
  t.match(await dev.status(), { state: 'running', pid: third.pid });

  await dev.remove({ force: true });
  t.notOk(alive(third.pid), 'remove --force stopped QEMU');
  t.notOk(existsSync(dev.paths.dir));
});

t.test('two starts at once: one boots, the other is told the instance is busy', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root);
  await Instance.create({ name: 'race', machine, accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('race', { root, force: true }).catch(() => {}));
  const [a, b] = await Promise.all([Instance.open('race', { root }), Instance.open('race', { root })]);
  const results = await Promise.allSettled([a.start({ wait: 'none' }), b.start({ wait: 'none' })]);
  const won = results.filter((r) => r.status === 'fulfilled');
  const lost = results.filter((r) => r.status === 'rejected');
  t.equal(won.length, 1);
  t.equal(lost.length, 1);
  t.match((lost[0] as PromiseRejectedResult).reason, { code: 'INSTANCE_BUSY' });
  const status = await a.status();
  t.ok(status.state === 'running' || status.state === 'paused');
  await t.rejects(a.start({ wait: { serial: 'NEVER-PRINTED' }, timeout: 2000 }), {
    code: 'VM_TIMEOUT',
    message: /instance race started but is not ready/,
    hint: /still running: `qlaunch logs race`/,
  });
  t.match(await a.stop({ force: true }), { how: 'quit' });
});

async function waitGone(pid: number): Promise<void> {
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
}

t.test('a damaged or unfinished instance is listed with its problem and can still be removed', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root);
  const broken = await Instance.create({ name: 'broken', machine, accel: 'tcg' }, { root });
  writeFileSync(broken.paths.config, '{"schema": 1');
  mkdirSync(join(root, 'half'));
  await t.rejects(Instance.open('broken', { root }), { code: 'INSTANCE_CONFIG_INVALID' });
  await t.rejects(Instance.open('half', { root }), { code: 'INSTANCE_NOT_FOUND', message: /never finished/ });
  t.match(await Instance.list({ root }), [
    { name: 'broken', error: /is damaged/ },
    { name: 'half', error: /never finished/ },
  ]);
  await Instance.destroy('broken', { root });
  await Instance.destroy('half', { root });
  t.same(
    readdirSync(root).filter((f) => !f.endsWith('.yaml')),
    [],
  );
});
