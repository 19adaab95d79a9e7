// The pinned machine type through the CLI: inspect shows it, a start after a QEMU upgrade is refused with the fix,
// and `start --repin` moves the instance to this QEMU's type, saying what that costs.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

t.test(
  'inspect shows the pin; a vanished type is refused; --repin moves it, refused while it runs',
  async (t) => {
    const home = instanceTempDir(t);
    const q = (args: string[]) =>
      execa(process.execPath, [cliPath, ...args], {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: home, XDG_CACHE_HOME: join(home, 'cache') },
      });
    t.teardown(() => q(['rm', '--force', 'box']));
    const help = (await execa('qemu-system-x86_64', ['-machine', 'help'])).stdout;
    const q35 = /^q35\s.*\(alias of (\S+)\)/m.exec(help)?.[1] ?? 'q35 is no alias here';

    const created = await q(['create', 'box', '--machine', await tinyMachineFile(home), '--accel', 'tcg']);
    t.equal(created.exitCode, 0, created.stderr);
    const inspect = await q(['inspect', 'box']);
    t.match(inspect.stdout, new RegExp(`^type: +${q35} \\(pinned under QEMU \\d+\\.\\d+\\.\\d+\\)$`, 'm'));
    t.match(JSON.parse((await q(['inspect', 'box', '--json'])).stdout), { machineType: q35 });

    const config = join(home, 'instances', 'box', 'instance.json');
    const pinned = JSON.parse(readFileSync(config, 'utf8'));
    writeFileSync(
      config,
      JSON.stringify({ ...pinned, machineType: { name: 'pc-q35-99.0', qemuVersion: '99.0.0' } }),
    );
    const refused = await q(['start', 'box']);
    t.equal(refused.exitCode, 1);
    t.match(refused.stderr, /instance box runs on machine type pc-q35-99\.0 \(pinned under QEMU 99\.0\.0\)/);
    t.match(refused.stderr, /qlaunch start box --repin.*snapshots/s);
    t.equal(JSON.parse((await q(['ls', '--json'])).stdout)[0]?.state, 'stopped');

    const repinned = await q(['start', 'box', '--repin']);
    t.equal(repinned.exitCode, 0, repinned.stderr);
    t.match(
      repinned.stderr,
      new RegExp(
        `re-pinned from machine type pc-q35-99\\.0 to ${q35}: snapshots saved on pc-q35-99\\.0 no longer load`,
      ),
    );
    t.match(JSON.parse(readFileSync(config, 'utf8')).machineType, { name: q35 });
    const again = await q(['start', 'box', '--repin']);
    t.equal(again.exitCode, 1);
    t.match(again.stderr, /box is running; its machine type is re-pinned only when it boots/);
    t.equal((await q(['stop', 'box'])).exitCode, 0);
  },
);
