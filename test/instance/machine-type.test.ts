// Machine types on the tiny guest: create pins what this host's QEMU calls q35, every start boots exactly that, a
// type QEMU no longer offers is refused before QEMU runs, and a config from before pinning is pinned on first start.

import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { locateQemu } from '../../lib/host/binaries.js';
import { Instance } from '../../lib/instance/instance.js';
import { useEnv } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

/** The -machine type a running QEMU was started with, from its own argv. */
const machineOf = (pid: number): string | undefined => {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return argv[argv.indexOf('-machine') + 1]?.split(',')[0];
};

const readConfig = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

t.test('pinned at create, booted as pinned, refused when gone, re-pinned when asked', async (t) => {
  const root = instanceTempDir(t);
  useEnv(t, { XDG_CACHE_HOME: join(root, 'cache') });
  const real = await locateQemu('x86_64');
  // What this host's QEMU says q35 is (not a version written into the test).
  const help = (await execa(real, ['-machine', 'help'])).stdout;
  const q35 = /^q35\s.*\(alias of (\S+)\)/m.exec(help)?.[1] ?? '';
  t.match(q35, /^pc-q35-\d+\.\d+$/, `q35 is ${q35} here`);

  const machine = await tinyMachineFile(root);
  const dev = await Instance.create({ name: 'dev', machine, accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('dev', { root, force: true }).catch(() => {}));
  t.match(readConfig(dev.paths.config).machineType, { name: q35, qemuVersion: /^\d+\.\d+\.\d+$/ });
  t.equal((await dev.info()).machineType, q35, 'inspect shows it');
  const first = await dev.start();
  t.equal(machineOf(first.pid), q35, 'QEMU runs the pinned type');
  await dev.stop();

  // A QEMU upgrade, simulated: the config names a type this QEMU lacks. A wrapper notes any run but the probes.
  const marker = join(root, 'booted');
  const wrapper = join(root, 'qemu-system-x86_64');
  writeFileSync(
    wrapper,
    `#!/bin/sh\ncase "$1 $2" in "-version "|"-machine help") ;; *) touch '${marker}' ;; esac\nexec '${real}' "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  writeFileSync(
    dev.paths.config,
    JSON.stringify({
      ...readConfig(dev.paths.config),
      machineType: { name: 'pc-q35-99.0', qemuVersion: '99.0.0' },
    }),
  );
  const upgraded = await Instance.open('dev', { root });
  await t.rejects(upgraded.start({ binary: wrapper, accel: 'tcg' }), {
    code: 'MACHINE_TYPE_UNAVAILABLE',
    message:
      /instance dev runs on machine type pc-q35-99\.0 \(pinned under QEMU 99\.0\.0\), which QEMU \d+\.\d+\.\d+ /,
    hint: new RegExp(`recreate.*re-pin it to ${q35} with \`qlaunch start dev --repin\`.*snapshots`),
  });
  t.notOk(existsSync(marker), 'QEMU was never asked to boot it');
  t.match(await upgraded.status(), { state: 'stopped' });
  t.equal(readConfig(dev.paths.config).machineType.name, 'pc-q35-99.0', 'the config is left as it was');

  const repinned = await upgraded.start({ binary: wrapper, accel: 'tcg', repin: true });
  t.ok(existsSync(marker), 'the re-pinned start boots');
  t.equal(machineOf(repinned.pid), q35);
  t.equal(readConfig(dev.paths.config).machineType.name, q35, 'the new pin is recorded');
  t.equal(upgraded.config.machineType?.name, q35, 'and the handle follows it');
  await upgraded.stop();

  // A config from before pinning: it starts, and the first start pins it.
  const { machineType: _, ...old } = readConfig(dev.paths.config);
  writeFileSync(dev.paths.config, JSON.stringify(old));
  const legacy = await Instance.open('dev', { root });
  t.equal((await legacy.info()).machineType, undefined);
  const third = await legacy.start();
  t.equal(machineOf(third.pid), q35);
  t.match(readConfig(dev.paths.config).machineType, { name: q35, qemuVersion: /^\d+\.\d+\.\d+$/ });
  await legacy.stop();
});

t.test(
  'a machine file may name a versioned type: kept if this QEMU has it, refused at create if not',
  async (t) => {
    const root = instanceTempDir(t);
    useEnv(t, { XDG_CACHE_HOME: join(root, 'cache') });
    const help = (await execa(await locateQemu('x86_64'), ['-machine', 'help'])).stdout;
    // An older q35 this QEMU still offers, whatever its version.
    const older = [...help.matchAll(/^(pc-q35-\d+\.\d+)\s/gm)].map((m) => m[1] ?? '')[1] ?? '';
    t.match(older, /^pc-q35-/);
    const machine = await tinyMachineFile(root);
    const withType = (type: string) => {
      const path = join(root, `${type}.yaml`);
      writeFileSync(path, `${readFileSync(machine, 'utf8')}machineType: ${type}\n`);
      return path;
    };
    const old = await Instance.create({ name: 'old', machine: withType(older), accel: 'tcg' }, { root });
    t.equal(old.config.machineType?.name, older);
    await t.rejects(
      Instance.create({ name: 'future', machine: withType('pc-q35-99.0'), accel: 'tcg' }, { root }),
      {
        code: 'MACHINE_TYPE_UNAVAILABLE',
        message: /machine type pc-q35-99\.0 is not offered by QEMU \d+\.\d+\.\d+/,
        hint: /-machine help/,
      },
    );
    t.notOk(existsSync(join(root, 'future')), 'nothing of it is left');
    await t.rejects(
      Instance.create({ name: 'pc', machine: withType('pc-i440fx-7.2'), accel: 'tcg' }, { root }),
      {
        code: 'SPEC_INVALID',
        message: /'pc-i440fx-7\.2'/,
      },
    );
  },
);
