// Internal snapshots of an instance record the machine type and QEMU that saved them; a load across a change is
// refused before QEMU is asked, and a snapshot with no record (saved before records were kept) loads unchecked.

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { locateQemu } from '../../lib/host/binaries.js';
import { Instance } from '../../lib/instance/instance.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

t.test('save records the origin; another QEMU release is refused at load; no record loads', async (t) => {
  const root = instanceTempDir(t);
  const disk = join(root, 'blank.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '64M']);
  const tiny = await tinyMachineFile(root);
  const machine = join(root, 'disk.yaml');
  writeFileSync(machine, `${readFileSync(tiny, 'utf8')}image:\n  path: ${disk}\n`);
  const dev = await Instance.create({ name: 'snap', machine, accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('snap', { root, force: true }).catch(() => {}));
  await dev.start({ wait: 'none' });

  await dev.saveSnapshot('a');
  const version = /version (\d+\.\d+\.\d+)/.exec(
    execFileSync(await locateQemu('x86_64'), ['-version'], { encoding: 'utf8' }),
  )?.[1];
  const records = () => JSON.parse(readFileSync(dev.paths.snapshotOrigins, 'utf8'));
  t.same(records(), {
    version: 1,
    snapshots: { a: { machineType: dev.config.machineType?.name, qemuVersion: version } },
  });

  // Saved by another QEMU release (an upgrade since): refused, and the guest runs on untouched.
  writeFileSync(
    dev.paths.snapshotOrigins,
    JSON.stringify({ version: 1, snapshots: { a: { machineType: 'pc-q35-6.2', qemuVersion: '6.2.0' } } }),
  );
  await t.rejects(dev.loadSnapshot('a'), {
    code: 'VM_SNAPSHOT_INCOMPATIBLE',
    message: new RegExp(
      `'a' was saved on machine type pc-q35-6\\.2 by QEMU 6\\.2\\.0; the VM now runs ${dev.config.machineType?.name} on QEMU ${version}`,
    ),
    hint: /snapshot rm/,
  });
  t.match(await dev.status(), { state: 'running', qemuStatus: 'running' }, 'QEMU was not asked to load it');

  // A snapshot from before records were kept has none: it loads as it always did.
  rmSync(dev.paths.snapshotOrigins);
  t.match(await dev.loadSnapshot('a'), { tag: 'a' });

  await dev.saveSnapshot('a', { replace: true });
  t.match(await dev.loadSnapshot('a'), { tag: 'a' }, 'the same QEMU loads its own snapshot');
  await dev.deleteSnapshot('a');
  t.same(records().snapshots, {}, 'a deleted snapshot loses its record');
  await dev.stop();
});
