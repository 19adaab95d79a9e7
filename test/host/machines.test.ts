import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCH_TABLE, ARCHES } from '../../lib/arch/table.js';
import { findQemu } from '../../lib/host/binaries.js';
import { listMachines, machineNames, machineTypeOf, parseMachineHelp } from '../../lib/host/machines.js';

const HELP = `Supported machines are:
microvm              microvm (i386)
pc                   Standard PC (i440FX + PIIX, 1996) (alias of pc-i440fx-7.2)
pc-i440fx-7.2        Standard PC (i440FX + PIIX, 1996) (default)
q35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)
pc-q35-7.2           Standard PC (Q35 + ICH9, 2009)
microchip-icicle-kit Microchip PolarFire SoC Icicle Kit
none                 empty machine
`;

t.test('parseMachineHelp: names, aliases, the default', async (t) => {
  const machines = parseMachineHelp(HELP);
  t.same(
    machines.map((m) => m.name),
    ['microvm', 'pc', 'pc-i440fx-7.2', 'q35', 'pc-q35-7.2', 'microchip-icicle-kit', 'none'],
  );
  t.match(machines[3], { name: 'q35', aliasOf: 'pc-q35-7.2', isDefault: false });
  t.match(machines[2], { name: 'pc-i440fx-7.2', aliasOf: undefined, isDefault: true });
  t.equal(machines[5]?.description, 'Microchip PolarFire SoC Icicle Kit');
  t.same(parseMachineHelp(''), []);
});

t.test('machineNames: an alias adds its versioned machine', async (t) => {
  const machines = parseMachineHelp(HELP);
  t.same(machineNames('q35', machines), ['q35', 'pc-q35-7.2']);
  t.same(machineNames('pc-q35-7.2', machines), ['pc-q35-7.2']);
  t.same(machineNames('virt', []), ['virt']);
});

t.test('listMachines: a binary that fails gives no list', async (t) => {
  const path = join(t.testdir(), 'qemu-system-x86_64');
  await writeFile(path, '#!/bin/sh\nexit 1\n');
  await chmod(path, 0o755);
  t.same(await listMachines(path), []);
});

t.test('listMachines on the installed binaries: the arch table machine is known', async (t) => {
  for (const arch of ARCHES) {
    const qemu = await findQemu(arch);
    if (!qemu) continue;
    const machines = await listMachines(qemu.path);
    const { machine } = ARCH_TABLE[arch];
    t.ok(
      machines.some((m) => m.name === machine),
      `${qemu.path} lists ${machine}`,
    );
    const names = machineNames(machine, machines);
    t.equal(names[0], machine);
    // When the table names an alias, the versioned name it stands for is listed too.
    for (const name of names.slice(1))
      t.ok(
        machines.some((m) => m.name === name),
        `${name} listed`,
      );
  }
});

t.test('machineTypeOf: an alias is its versioned type, a versioned or unversioned type itself', async (t) => {
  const machines = parseMachineHelp(HELP);
  t.equal(machineTypeOf('q35', machines), 'pc-q35-7.2');
  t.equal(machineTypeOf('pc-q35-7.2', machines), 'pc-q35-7.2');
  t.equal(machineTypeOf('microchip-icicle-kit', machines), 'microchip-icicle-kit');
  t.equal(machineTypeOf('pc-q35-99.0', machines), undefined, 'a type this QEMU lacks');
});
