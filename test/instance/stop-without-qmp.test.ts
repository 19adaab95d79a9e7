// `stop` when QEMU's control socket is gone: the guest agent still powers the guest off (and the guest comes back
// ready, its SSH host keys intact); a guest with no graceful path left is cut off, said plainly, with exit 1 unless
// --force was asked for.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { alive, cliPath, shortTempDir, testHome } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(900_000);

const cli = (home: string) => (args: string[]) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, env: { ...process.env, QLAUNCH_HOME: home } });

t.test('no QMP and no agent: stop ends QEMU, says data may be lost, exit 1; --force exits 0', async (t) => {
  const home = join(shortTempDir(t), 'home');
  const q = cli(home);
  const machine = await tinyMachineFile(shortTempDir(t));
  t.teardown(() => q(['rm', '--force', 'box']));
  t.equal((await q(['create', 'box', '--machine', machine, '--accel', 'tcg'])).exitCode, 0);

  for (const force of [false, true]) {
    const started = await q(['start', 'box', '--json']);
    t.equal(started.exitCode, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    rmSync(join(home, 'instances', 'box', 'qmp.sock'));
    const stop = await q(['stop', 'box', '--timeout', '5', ...(force ? ['--force'] : [])]);
    t.notOk(alive(pid), 'QEMU is gone');
    t.match(stop.stderr, /box stopped \(terminated\)/);
    t.notMatch(stop.stderr, /unexpected error/);
    if (force) {
      t.equal(stop.exitCode, 0, '--force: a hard stop was asked for');
      t.notMatch(stop.stderr, /may be lost/);
    } else {
      t.equal(stop.exitCode, 1, 'not asked to force it: exit 1');
      t.match(
        stop.stderr,
        /did not power off when asked, so qlaunch sent QEMU SIGTERM: data the guest had not/,
      );
      t.match(stop.stderr, /fix: .*qlaunch stop --force box/);
    }
  }
});

t.test(
  'no QMP, but a guest agent: stop powers the guest off through it, and it boots ready again',
  async (t) => {
    const home = await testHome();
    const q = cli(home);
    const name = `noqmp-${process.pid}`;
    const root = join(home, 'instances');
    t.teardown(() => Instance.destroy(name, { root, force: true }).catch(() => {}));
    const args = ['--image', 'debian-12-local', '--memory', '1G', '--accel', 'tcg'];
    t.equal((await q(['create', name, ...args])).exitCode, 0);
    const started = await q(['start', name, '--wait', 'ssh', '--json']);
    t.equal(started.exitCode, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };

    rmSync(join(root, name, 'qmp.sock'));
    const stop = await q(['stop', name]);
    t.equal(stop.exitCode, 0, stop.stderr);
    t.match(stop.stderr, `${name} stopped (guest-shutdown)`, 'the agent powered the guest off');
    t.notOk(alive(pid));

    // A kill here once left the guest's SSH host keys empty; a real power-off writes everything back.
    const again = await q(['start', name, '--wait', 'ssh', '--json']);
    t.equal(again.exitCode, 0, again.stderr);
    const keys = await q([
      'exec',
      name,
      '--',
      'sh',
      '-c',
      'find /etc/ssh -name "ssh_host_*" -size 0 | wc -l',
    ]);
    t.equal(keys.stdout.trim(), '0', 'no empty host key');
  },
);
