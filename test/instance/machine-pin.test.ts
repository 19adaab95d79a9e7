// Pinning an instance's machine type (pure): what create and each start choose, and what a QEMU upgrade refuses.

import t from 'tap';
import type { MachineCatalog } from '../../lib/host/machine-cache.js';
import { parseMachineHelp } from '../../lib/host/machines.js';
import { choosePin, pinChanged } from '../../lib/instance/machine-pin.js';

const catalog = (version: string, help: string): MachineCatalog => ({
  qemuPath: '/usr/bin/qemu-system-x86_64',
  qemuStamp: '1:2:3',
  qemuVersion: version,
  machines: parseMachineHelp(help),
});
const QEMU_72 = catalog(
  '7.2.22',
  'q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\npc-q35-7.2           Standard PC (Q35 + ICH9, 2009)\npc-q35-7.1           Standard PC (Q35 + ICH9, 2009)\n',
);

t.test('unpinned (create, or a config from before pinning): the alias as this QEMU defines it', async (t) => {
  t.same(choosePin({ instance: 'dev', arch: 'x86_64' }, QEMU_72), {
    name: 'pc-q35-7.2',
    qemuVersion: '7.2.22',
  });
  const riscv = catalog('7.2.22', 'virt                 RISC-V VirtIO board\n');
  t.same(
    choosePin({ instance: 'rv', arch: 'riscv64' }, riscv),
    { name: 'virt', qemuVersion: '7.2.22' },
    'unversioned: itself',
  );
});

t.test('pinned and offered: kept, with the QEMU that pinned it', async (t) => {
  const pinned = { name: 'pc-q35-7.1', qemuVersion: '7.1.0' };
  t.same(choosePin({ instance: 'dev', arch: 'x86_64', pinned }, QEMU_72), pinned);
  t.notOk(pinChanged(pinned, choosePin({ instance: 'dev', arch: 'x86_64', pinned }, QEMU_72)));
  // A machine file's choice (no QEMU yet) gets this QEMU's version; an alias there resolves.
  t.same(choosePin({ instance: 'dev', arch: 'x86_64', pinned: { name: 'q35' } }, QEMU_72), {
    name: 'pc-q35-7.2',
    qemuVersion: '7.2.22',
  });
});

t.test('pinned to a type this QEMU lacks: refused with the type, the versions and both fixes', async (t) => {
  const pinned = { name: 'pc-q35-99.0', qemuVersion: '99.0.0' };
  t.throws(() => choosePin({ instance: 'dev', arch: 'x86_64', pinned }, QEMU_72), {
    code: 'MACHINE_TYPE_UNAVAILABLE',
    message:
      /instance dev .*pc-q35-99\.0 \(pinned under QEMU 99\.0\.0\).*QEMU 7\.2\.22 \(\/usr\/bin\/qemu-system-x86_64\)/,
    hint: /recreate.*re-pin it to pc-q35-7\.2 with `qlaunch start dev --repin`.*snapshots/,
  });
  const moved = choosePin({ instance: 'dev', arch: 'x86_64', pinned, repin: true }, QEMU_72);
  t.same(moved, { name: 'pc-q35-7.2', qemuVersion: '7.2.22' }, '--repin takes the current type');
  t.ok(pinChanged(pinned, moved));
  t.ok(pinChanged(undefined, moved), 'a first pin is a change to write');
});

t.test('a QEMU without the machine at all: refused with a reinstall hint', async (t) => {
  t.throws(() => choosePin({ instance: 'dev', arch: 'x86_64' }, catalog('7.2.22', 'none  empty machine\n')), {
    code: 'MACHINE_TYPE_UNAVAILABLE',
    hint: /apt-get install --reinstall qemu-system-x86/,
  });
});
