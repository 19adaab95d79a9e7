// Every QEMU launch() starts is confined: seccomp filter on, and under root an unprivileged user; opt-outs honoured.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { holdingTiny, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(600_000);

const root = process.getuid?.() === 0;

/** Seccomp mode and real uid of a running process, as the kernel reports them. */
function confinementOf(pid: number): { seccomp: number; uid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { seccomp: field('Seccomp'), uid: field('Uid') };
}

for (const arch of ['x86_64', 'aarch64', 'riscv64'] as const) {
  t.test(
    `${arch} tiny guest: QEMU under the seccomp filter${root ? ', as an unprivileged user' : ''}`,
    async (t) => {
      shortTempDir(t);
      const vm = await launch(await holdingTiny(arch));
      t.teardown(() => vm.kill());
      const confined = confinementOf(vm.pid);
      t.equal(confined.seccomp, 2, 'Seccomp: 2 (filter mode)');
      if (root) t.not(confined.uid, 0, 'Uid is not root');
      // Everything the guest needs after the drop still works: console, QMP, a clean power-off.
      await vm.waitForSerial('QLAUNCH-HOLDING', { timeout: 120_000 });
      t.match(await vm.qmp.execute('query-status'), { running: true });
      const exit = await vm.stop({ timeout: 60_000 });
      // riscv64's virt machine has no power button: QEMU is asked to quit instead.
      t.match(exit, { how: arch === 'riscv64' ? 'quit' : 'guest-shutdown', exitCode: 0 });
    },
  );
}

t.test('opt-outs: no filter, and QEMU stays the user qlaunch runs as', async (t) => {
  const progress: string[] = [];
  const vm = await launch(
    {
      ...(await holdingTiny('x86_64')),
      sandbox: false,
      runAsRoot: true,
    },
    { onProgress: (line) => progress.push(line) },
  );
  t.teardown(() => vm.kill());
  t.same(confinementOf(vm.pid), { seccomp: 0, uid: process.getuid?.() ?? 0 });
  t.match(progress, [/--no-sandbox: .*seccomp/], 'says what --no-sandbox gives up');
  if (root) t.match(progress, [/--no-sandbox/, /--run-as-root: .*root/], 'and what --run-as-root does');
  await vm.kill();
});
