// Instances of other architectures: aarch64 through UEFI with its own variable store, riscv64 without a power button.

import { statSync } from 'node:fs';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { alive, shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

t.test('aarch64 under UEFI keeps its NVRAM across boots', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root, { arch: 'aarch64', append: 'qlaunch.hold=1' });
  const arm = await Instance.create({ name: 'arm', machine, firmware: 'uefi', accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('arm', { root, force: true }).catch(() => {}));
  t.equal(arm.config.arch, 'aarch64');
  t.equal(arm.config.firmware, 'uefi');
  const first = await arm.start();
  const nvram = statSync(arm.paths.nvram);
  t.equal(nvram.size, 64 * 1024 * 1024, 'a copy of the AAVMF variable store, its pflash size');
  t.equal(nvram.mode & 0o777, 0o600);
  await arm.stop({ force: true });
  t.notOk(alive(first.pid));
  await arm.start();
  t.equal(statSync(arm.paths.nvram).ino, nvram.ino, 'the second boot reuses the variable store');
  await arm.remove({ force: true });
});

t.test('riscv64 has no power button: stop quits QEMU at once instead of waiting for the guest', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root, { arch: 'riscv64' });
  const rv = await Instance.create({ name: 'rv', machine, accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('rv', { root, force: true }).catch(() => {}));
  const started = await rv.start();
  t.match(await rv.qmp('query-status'), { status: 'running' });
  const stopped = await rv.stop({ timeout: 120_000 });
  t.match(stopped, { how: 'quit', was: 'running' }, 'no agent in this guest either, so QEMU is told to quit');
  t.notOk(alive(started.pid));
});
