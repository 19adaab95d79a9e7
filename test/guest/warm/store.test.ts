// Warm images by name, through the CLI a person uses: `image warm` saves one into the store, `image ls/inspect`
// show what it stands on, `run NAME` clones it, and what must be refused is (removing its base, an instance on it,
// another QEMU). Then three clones in one process that is SIGKILLed: nothing of them is left.
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { WARM_FILES } from '../../../lib/guest/warm/files.js';
import { alive, cliPath, pollUntil, shortTempDir, testHome } from '../../fixtures/guests.js';

t.setTimeout(1_800_000);

/** A home of its own whose store holds the test image (hard links: nothing is copied, the shared home is not touched). */
async function privateHome(t: { teardown: (fn: () => void) => void }): Promise<string> {
  const shared = join(await testHome(), 'images', 'debian-12-local');
  const home = shortTempDir(t);
  const image = join(home, 'images', 'debian-12-local');
  mkdirSync(image, { recursive: true, mode: 0o700 });
  for (const file of readdirSync(shared)) linkSync(join(shared, file), join(image, file));
  return home;
}

/** The pids of ssh masters whose control socket is under `dir` (their argv names it). */
function sshMastersUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      const argv = (() => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      })();
      return (
        argv[0] === 'ssh' &&
        argv.includes('ControlMaster=yes') &&
        argv.some((a) => a.startsWith(`ControlPath="${dir}/`))
      );
    })
    .map(Number);
}

t.test('image warm, ls, inspect, run, and the refusals', async (t) => {
  const home = await privateHome(t);
  const runtime = shortTempDir(t);
  const env = { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime, TMPDIR: runtime };
  const qlaunch = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], { reject: false, env: { ...process.env, ...env } });
  const images = join(home, 'images');

  const quick = await Promise.all([
    qlaunch(['image', 'warm', 'debian-12-local', '--as', 'debian-12']),
    qlaunch(['image', 'warm', 'debian-12-local', '--as', 'Bad/Name']),
  ]);
  t.match(quick[0].stderr, /debian-12 is the name of a machine template[\s\S]*fix: .*--as debian-12-warm/);
  t.match(quick[1].stderr, /Bad\/Name/, 'a bad name is refused by name');
  t.ok(
    quick.every((r) => r.exitCode !== 0),
    'each exits non-zero',
  );

  // Ctrl-C while the guest boots: exit 130, no QEMU, nothing in the store.
  const interrupted = execa(
    process.execPath,
    [cliPath, 'image', 'warm', 'debian-12-local', '--as', 'w-int'],
    {
      reject: false,
      env: { ...process.env, ...env },
    },
  );
  await new Promise<void>((resolve) => {
    let err = '';
    interrupted.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      if (err.includes('booting')) resolve();
    });
  });
  interrupted.kill('SIGINT');
  const stopped = await interrupted;
  t.equal(stopped.exitCode, 130, stopped.stderr);
  t.match(stopped.stderr, /SIGINT: stopping; nothing half-made is kept/);
  t.same(readdirSync(images), ['debian-12-local'], 'an interrupted warm leaves nothing in the store');

  const failing = await qlaunch([
    'image',
    'warm',
    'debian-12-local',
    '--as',
    'w-bad',
    '--',
    'sh',
    '-c',
    'echo no database here >&2; exit 3',
  ]);
  t.equal(failing.exitCode, 1);
  t.match(failing.stderr, /preparation command sh exited with status 3: no database here/);
  t.same(readdirSync(images), ['debian-12-local'], 'a failed warm leaves nothing half-made in the store');

  const warmed = await qlaunch([
    'image',
    'warm',
    'debian-12-local',
    '--as',
    'w1',
    '--port',
    '0:8000',
    '--',
    'sh',
    '-c',
    'echo warmed > /var/tmp/x && cd /var/tmp && { nohup python3 -m http.server 8000 >/dev/null 2>&1 & }',
  ]);
  t.equal(warmed.exitCode, 0, warmed.stderr);
  t.match(warmed.stdout, /^warmed w1 in [\d.]+ s: qcow2, .*device state [\d.]+ MiB, RAM [\d.]+ MiB/m);
  t.match(warmed.stderr, /running sh -c 'echo warmed/, 'the preparation step is shown');
  t.equal(readFileSync(join(images, 'w1', WARM_FILES.key)).length > 0, true);

  const again = await qlaunch(['image', 'warm', 'debian-12-local', '--as', 'w1']);
  t.equal(again.exitCode, 1);
  t.match(again.stderr, /an image 'w1' is already in/, 'a taken name is refused before booting');
  t.notMatch(again.stderr, /booting/, 'nothing was booted for it');

  const ls = await qlaunch(['image', 'ls', '--json']);
  const listed = JSON.parse(ls.stdout) as { name: string; origin: string; base?: string; problem?: string }[];
  t.match(
    listed.find((i) => i.name === 'w1'),
    { origin: 'warm', base: 'debian-12-local', problem: undefined },
    'image ls lists the warm image, on its base, with no problem',
  );
  t.match((await qlaunch(['image', 'ls'])).stdout, /^w1 .*warm, on debian-12-local/m);
  const inspect = await qlaunch(['image', 'inspect', 'w1']);
  t.match(inspect.stdout, /stands on: +debian-12-local/);
  t.match(inspect.stdout, /machine: +pc-q35-\d+\.\d+, CPU \S+, \d+ vCPU, 1024 MiB/);
  t.match(inspect.stdout, /clone ports: +22, 8000/);
  t.match(inspect.stdout, /backing chain: .*debian-12-local\/disk\.qcow2/);

  const ran = await qlaunch(['run', 'w1', '--', 'sh', '-c', 'cat /var/tmp/x; exit 7']);
  t.equal(ran.exitCode, 7, `the command's exit code is run's (${ran.stderr})`);
  t.equal(ran.stdout, 'warmed', 'a clone has what the preparation wrote');
  t.match(ran.stderr, /restoring w1 \(x86_64, [\s\S]*ready after [\d.]+ s/);
  const leftovers = () => readdirSync(runtime).flatMap((d) => readdirSync(join(runtime, d)));
  t.same(leftovers(), [], 'the clone left nothing in the runtime directory');
  t.same(sshMastersUnder(runtime), [], 'no SSH master outlives the clone whose command rode it');
  // Without a terminal run's command rides the master its readiness opened: the login happened once, before ready.
  t.match(
    (await qlaunch(['run', 'w1', '--log-level', 'info', '--', 'true'])).stderr,
    /"ssh login":\d+/,
    "readiness logged in (not only read sshd's greeting)",
  );

  const rmBase = await qlaunch(['image', 'rm', 'debian-12-local']);
  t.equal(rmBase.exitCode, 1);
  t.match(rmBase.stderr, /image debian-12-local is the base of warm image w1[\s\S]*qlaunch image rm w1/);
  t.ok(readdirSync(images).includes('debian-12-local'), 'the base is still there');

  await t.test(
    'an instance made from it restores on its first start, and boots its own disk cold after',
    async (t) => {
      const changed = await qlaunch([
        'create',
        'dev2',
        '--image',
        'w1',
        '--cpus',
        '2',
        '--network',
        'private:lan',
        '--mount',
        runtime,
      ]);
      t.equal(changed.exitCode, 1);
      t.match(
        changed.stderr,
        /instance dev2: cpus, mounts, networks cannot change for warm image w1[\s\S]*warm the image again/,
      );
      t.notOk(existsSync(join(home, 'instances', 'dev2')), 'nothing of it is left');

      const create = await qlaunch(['create', 'dev', '--image', 'w1']);
      t.equal(create.exitCode, 0, create.stderr);
      const config = () =>
        JSON.parse(readFileSync(join(home, 'instances', 'dev', 'instance.json'), 'utf8')) as {
          warm?: { image: string; restored: boolean };
          base?: { path: string };
        };
      t.match(config(), {
        warm: { image: 'w1', restored: false },
        base: { path: join(images, 'w1', 'layer.qcow2') },
      });
      const first = await qlaunch(['start', 'dev']);
      t.equal(first.exitCode, 0, first.stderr);
      t.equal(config().warm?.restored, true, 'the first start is recorded as the restore');
      t.match(
        (await qlaunch(['inspect', 'dev'])).stdout,
        /from w1 \(a warm image, restored on its first start/,
      );
      // The server the preparation started runs only in the saved machine: it is how a restore is told from a boot.
      const server = "grep -qs 'http[.]server' /proc/[0-9]*/cmdline && echo serving";
      const restored = await qlaunch([
        'exec',
        'dev',
        '--',
        'sh',
        '-c',
        `cat /var/tmp/x; ${server}; cat /sys/class/net/e*/address; echo mine > /var/tmp/y; sync`,
      ]);
      t.equal(restored.exitCode, 0, restored.stderr);
      const [x, serving, mac] = restored.stdout.split('\n');
      t.same([x, serving], ['warmed', 'serving'], 'the first start is the saved machine, its server running');
      const inUse = await qlaunch(['image', 'rm', 'w1']);
      t.equal(inUse.exitCode, 1);
      t.match(
        inUse.stderr,
        /image w1 is the base disk of instance dev/,
        'the warm image is in use by the instance',
      );

      t.equal((await qlaunch(['stop', 'dev'])).exitCode, 0);
      const cold = await qlaunch(['start', 'dev']);
      t.equal(cold.exitCode, 0, cold.stderr);
      const after = await qlaunch([
        'exec',
        'dev',
        '--',
        'sh',
        '-c',
        `cat /var/tmp/x /var/tmp/y; ${server} || echo booted; cat /sys/class/net/e*/address`,
      ]);
      t.equal(after.exitCode, 0, after.stderr);
      t.same(
        after.stdout.split('\n'),
        ['warmed', 'mine', 'booted', mac],
        "the second start boots the instance's own disk, with what it wrote and the NIC's MAC it had",
      );
      t.equal((await qlaunch(['rm', '--force', 'dev'])).exitCode, 0);
    },
  );

  const stray = await qlaunch(['run', 'w1', '--cpus', '2', '--', 'true']);
  t.match(stray.stderr, /cpus cannot change for warm image/, 'what a clone cannot change is refused');

  // The kill test below clones it as it is: the version edit works on a copy of the record.
  const record = join(images, 'w1', WARM_FILES.record);
  const saved = readFileSync(record, 'utf8');
  chmodSync(record, 0o644);
  writeFileSync(record, saved.replace(/"version": "[^"]+"/, '"version": "6.2.0"'));
  const moved = await qlaunch(['run', 'w1', '--', 'true']);
  writeFileSync(record, saved);
  chmodSync(record, 0o444);
  t.equal(moved.exitCode, 1);
  t.match(
    moved.stderr,
    /warm image .*w1 was saved with QEMU 6\.2\.0, but this host has QEMU [\d.]+[\s\S]*warm it again/,
  );

  await t.test('SIGKILL of a process with three clones leaves no QEMU, overlay or socket', async (t) => {
    const script = join(shortTempDir(t), 'clones.mjs');
    const lib = new URL('../../../dist/lib/index.js', import.meta.url).href;
    writeFileSync(
      script,
      `import { launch } from ${JSON.stringify(lib)};
// The third keeps a logged-in SSH connection, which its command rides.
const guests = await Promise.all([1, 2, 3].map((i) => launch({ image: 'w1' }, { sshMaster: i === 3 })));
const outs = await Promise.all(
  guests.map((g, i) => (i === 2 ? g.ssh.exec(['cat', '/var/tmp/x']) : g.exec(['cat', '/var/tmp/x']))),
);
console.log(JSON.stringify({ pids: guests.map((g) => g.pid), outs: outs.map((o) => o.stdout), control: guests[2].ssh.target.controlPath }));
setInterval(() => {}, 1e9);
`,
    );
    const child = execa(process.execPath, [script], { reject: false, env: { ...process.env, ...env } });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', () => reject(new Error(`the clones process ended first: ${out}`)));
    });
    const { pids, outs, control } = JSON.parse(line) as { pids: number[]; outs: string[]; control: string };
    t.same(outs, ['warmed\n', 'warmed\n', 'warmed\n'], 'three clones ran at once');
    t.ok(
      control.startsWith(`${runtime}/`),
      `the master's socket is in the clone's run directory (${control})`,
    );
    t.equal(statSync(control).mode & 0o777, 0o600, 'the socket is 0600');
    t.equal(sshMastersUnder(runtime).length, 1, 'one SSH master runs, for the third clone');
    t.ok(
      pids.every((pid) => alive(pid)),
      'their QEMUs run',
    );
    child.kill('SIGKILL');
    await child;
    t.ok(
      await pollUntil(() => !pids.some((pid) => alive(pid)), 15_000, 100),
      'every clone QEMU died with the process',
    );
    t.same(leftovers(), [], 'no overlay, socket or run directory is left');
    t.ok(
      await pollUntil(() => sshMastersUnder(runtime).length === 0, 15_000, 100),
      'the SSH master ended with its clone',
    );
  });

  const rmWarm = await qlaunch(['image', 'rm', 'w1']);
  t.equal(rmWarm.exitCode, 0, rmWarm.stderr);
  t.equal((await qlaunch(['image', 'rm', 'debian-12-local'])).exitCode, 0, 'with w1 gone, its base can go');
});
