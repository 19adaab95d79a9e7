// Names and paths with commas, spaces, quotes, `$()`, newlines, colons, unicode and 100+ bytes, through the CLI:
// each is refused (exit 1, `qlaunch: …` and a fix, never an unexpected error) or works end to end, leaving no QEMU.
// Guests boot under TCG: the tiny kernel guest for every home, QEMU opening the Debian disk for every disk path,
// and one whole Debian boot for the case that joins them.

import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { stringify } from 'yaml';
import { qemuHolding } from '../../lib/instance/qemu-holders.js';
import { alive, cliPath, debianImage } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(1_200_000);

/** The CLI under `home`, run from `cwd` (where a `$(touch …)` that reached a shell would leave its file). */
function cli(home: string, cwd: string) {
  return (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      cwd,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
}

type Run = Awaited<ReturnType<ReturnType<typeof cli>>>;

const listed = (stdout: string) => JSON.parse(stdout) as { name: string; state: string; pid?: number }[];

/** Refused as every qlaunch error is: exit 1, what went wrong, then how to fix it. */
function refused(t: Test, run: Run, what: string): void {
  t.equal(run.exitCode, 1, `${what}: exit 1`);
  t.match(run.stderr, /^qlaunch: .+\n\s+fix: \S/, `${what}: the problem, then the fix`);
  t.notMatch(run.stderr, /unexpected error/, `${what}: not an unexpected error`);
}

/** Nothing a shell would have run: no file named by a `$(touch …)` anywhere under `dir`. */
const shellRan = (dir: string): boolean =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((path) => path.endsWith('pwned'));

const SUBST = '$(touch pwned)';

t.test('instance and image names: refused with a fix', async (t) => {
  const top = instanceTempDir(t);
  const q = cli(join(top, 'h'), top);
  const machine = await tinyMachineFile(top);
  const disk = join(top, 'small.qcow2');
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', disk, '1M']);
  for (const name of ['a,b', 'a b', `q'"`, SUBST, 'a\nb', 'a:b', 'é', 'x'.repeat(100), '../x']) {
    refused(t, await q(['create', name, '--machine', machine]), `create ${JSON.stringify(name)}`);
    refused(t, await q(['rm', '--force', name]), `rm ${JSON.stringify(name)}`);
    refused(
      t,
      await q(['image', 'import', disk, '--name', name]),
      `image import --name ${JSON.stringify(name)}`,
    );
    refused(t, await q(['image', 'rm', name]), `image rm ${JSON.stringify(name)}`);
    refused(t, await q(['create', 'c', '--image', name]), `create --image ${JSON.stringify(name)}`);
  }
  t.notOk(shellRan(top));
  t.notOk(existsSync(join(top, 'h', 'instances')), 'nothing half-made is left');
});

t.test('any QLAUNCH_HOME, tiny guest: refused with a fix, or running, stopped and removed', async (t) => {
  const top = instanceTempDir(t);
  const machine = await tinyMachineFile(top);
  const homes = [`h ,é日🙂`, `q'"`, SUBST, 'a\nb', 'x=y:z,path=', 'l'.repeat(110)];
  for (const home of homes) {
    const dir = join(top, home);
    mkdirSync(dir);
    const q = cli(dir, top);
    const what = JSON.stringify(home);
    const created = await q(['create', 'c', '--machine', machine, '--accel', 'tcg']);
    if (created.exitCode !== 0) {
      refused(t, created, `create under ${what}`);
      t.ok(Buffer.byteLength(dir) > 60, `${what}: only a home too long for the sockets is refused`);
      continue;
    }
    const started = await q(['start', 'c', '--json']);
    t.equal(started.exitCode, 0, `${what}: ${started.stderr}`);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    t.match(listed((await q(['ls', '--json'])).stdout), [{ name: 'c', state: 'running', pid }], what);
    const stopped = await q(['stop', 'c']);
    t.equal(stopped.exitCode, 0, stopped.stderr);
    t.match(stopped.stderr, /c stopped \(guest-shutdown\)/, `${what}: the guest powered off`);
    t.notOk(alive(pid));
    const rm = await q(['rm', 'c']);
    t.equal(rm.exitCode, 0, rm.stderr);
    t.notOk(existsSync(join(dir, 'instances', 'c')), `${what}: removed`);
  }
  t.notOk(shellRan(top));
});

t.test('any disk and user-data path: QEMU opens the Debian disk through each', async (t) => {
  const top = instanceTempDir(t);
  const debian = await debianImage();
  const home = join(top, 'h,é');
  const q = cli(home, top);
  // Relative, as typed: `x:y/…` must not read as qemu-img protocol `x`, nor `json:…` as a JSON description.
  const disks = [
    'x:y,z/d,e:f.qcow2',
    'json:{}/a b.qcow2',
    'n\nl/d.qcow2',
    `é'"/d ${SUBST}.qcow2`,
    `${'l'.repeat(100)}/d.qcow2`,
  ];
  const userData = join(top, `u,a b:é`, `${SUBST}'".yaml`);
  mkdirSync(dirname(userData));
  writeFileSync(userData, '#cloud-config\n{}\n');
  for (const [i, disk] of disks.entries()) {
    mkdirSync(join(top, dirname(disk)));
    symlinkSync(debian.image, join(top, disk));
    const what = JSON.stringify(disk);
    const name = `d${i}`;
    const created = await q(['create', name, '--image', disk, '--user-data', userData, '--accel', 'tcg']);
    t.equal(created.exitCode, 0, `${what}: ${created.stderr}`);
    // Not waiting for the guest: QEMU has opened the overlay and its backing file once `start` returns.
    const started = await q(['start', name, '--wait', 'none', '--json']);
    t.equal(started.exitCode, 0, `${what}: ${started.stderr}`);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    t.match(listed((await q(['ls', '--json'])).stdout), [{ name, state: 'running', pid }], what);
    const rm = await q(['rm', '--force', name]);
    t.equal(rm.exitCode, 0, rm.stderr);
    t.notOk(alive(pid), `${what}: no QEMU left`);
  }
  const missing = await q([
    'create',
    'm',
    '--image',
    disks[0] ?? '',
    '--user-data',
    join(top, 'no,such file'),
  ]);
  refused(t, missing, 'a user-data file that does not exist');
  t.notOk(shellRan(top));
  t.same(readdirSync(join(home, 'instances')), []);
});

t.test(
  'a Debian guest: home with a comma, a space and unicode; disk, kernel, machine file with colons and commas',
  async (t) => {
    const top = instanceTempDir(t);
    const debian = await debianImage();
    const home = join(top, 'h ,é');
    const q = cli(home, top);
    mkdirSync(join(top, 'img:1,2'));
    symlinkSync(debian.image, join(top, 'img:1,2', 'disk:a,b.qcow2'));
    symlinkSync(debian.kernel, join(top, 'img:1,2', 'vmlinuz,x'));
    symlinkSync(debian.initrd, join(top, 'img:1,2', 'initrd:y.img'));
    // The image has no boot loader: a machine file boots its kernel, as the debian-12-local template does.
    const machine = join(top, 'm,1:é.yaml');
    writeFileSync(
      machine,
      stringify({
        name: 'deb',
        arch: 'x86_64',
        memory: '1G',
        image: { path: 'img:1,2/disk:a,b.qcow2' },
        kernel: 'img:1,2/vmlinuz,x',
        initrd: 'img:1,2/initrd:y.img',
        append: debian.append,
        ssh: { user: debian.defaultUser },
        readiness: 'cloud-init',
      }),
    );
    const userData = join(top, 'u:1,2 é.yaml');
    writeFileSync(
      userData,
      '#cloud-config\nwrite_files:\n  - path: /etc/qlaunch-marker\n    content: from user-data\n',
    );

    const created = await q(['create', 'c', '--machine', machine, '--user-data', userData, '--accel', 'tcg']);
    t.equal(created.exitCode, 0, created.stderr);
    const started = await q(['start', 'c', '--json']);
    t.equal(started.exitCode, 0, started.stderr);
    const { pid } = JSON.parse(started.stdout) as { pid: number };
    t.match(listed((await q(['ls', '--json'])).stdout), [{ name: 'c', state: 'running', pid }]);
    const marker = await q(['exec', 'c', '--', 'cat', '/etc/qlaunch-marker']);
    t.equal(marker.exitCode, 0, marker.stderr);
    t.equal(marker.stdout.trim(), 'from user-data', 'the guest got the user-data');
    const stopped = await q(['stop', 'c']);
    t.equal(stopped.exitCode, 0, stopped.stderr);
    t.match(stopped.stderr, /c stopped \(guest-shutdown\)/);
    t.notOk(alive(pid));
    const rm = await q(['rm', 'c']);
    t.equal(rm.exitCode, 0, rm.stderr);
    t.same(await qemuHolding(home), [], 'no QEMU holds anything of the home');
    t.notOk(existsSync(join(home, 'instances', 'c')));
  },
);
