// Warm images for real: a Debian guest warmed once (a file, a running service), then two clones at once that each
// resume it — same file and service PID, their own disk, RNG and clock — with the image's files left unchanged. The
// warming QEMU and the clones' run confined: seccomp filter on and, under root, as an unprivileged user.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import t from 'tap';
import type { CloudGuest } from '../../../lib/guest/guest.js';
import { launch } from '../../../lib/guest/launch.js';
import { WARM_FILES } from '../../../lib/guest/warm/files.js';
import { warmImage } from '../../../lib/guest/warm/save.js';
import { findImage, openImageStore } from '../../../lib/image/store.js';
import { clockSkew, shortTempDir, testHome } from '../../fixtures/guests.js';

t.setTimeout(1_800_000);

const sha256 = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

const get = (port: number) =>
  new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/warm-file' }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });

// The guest is saved the moment PREP exits: it waits until the server listens, or clones would resume a server
// still starting up (and, for a second or so, refuse connections).
const PREP = [
  'sh',
  '-c',
  'echo warmed > /var/tmp/warm-file && cd /var/tmp && ' +
    '{ nohup python3 -m http.server 8000 >/dev/null 2>&1 & echo $! > /var/tmp/warm-pid; } && ' +
    'timeout 120 sh -c "until ss -ltn | grep -q :8000; do sleep 0.2; done"',
];

const root = process.getuid?.() === 0;

/** Seccomp mode and real uid of a running process, as the kernel reports them; undefined once it is gone. */
function confinementOf(pid: number | string): { seccomp: number; uid: number } | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { seccomp: field('Seccomp'), uid: field('Uid') };
}

/** Watches for the QEMU whose argv names `needle`; `last()` is its confinement when last seen alive. */
function watchQemu(needle: string) {
  let seen: { seccomp: number; uid: number } | undefined;
  const timer = setInterval(() => {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      let argv = '';
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!argv.startsWith('qemu-system') && !argv.includes('/qemu-system')) continue;
      if (!argv.includes(needle)) continue;
      seen = confinementOf(pid) ?? seen;
    }
  }, 500);
  return {
    last: () => {
      clearInterval(timer);
      return seen;
    },
  };
}

const run = async (guest: CloudGuest, script: string) => {
  const result = await guest.exec(['sh', '-c', script]);
  return { code: result.exitCode, out: result.stdout.trim() };
};

t.test('warm once, two clones at once: state kept, each its own, image unchanged', async (t) => {
  const home = await testHome();
  const saved = { home: process.env['QLAUNCH_HOME'], runtime: process.env['XDG_RUNTIME_DIR'] };
  const runtime = shortTempDir(t);
  process.env['QLAUNCH_HOME'] = home;
  process.env['XDG_RUNTIME_DIR'] = runtime;
  t.teardown(() => {
    for (const [key, value] of [
      ['QLAUNCH_HOME', saved.home],
      ['XDG_RUNTIME_DIR', saved.runtime],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  const base = await findImage(openImageStore({ dir: join(home, 'images') }), 'debian-12-local');
  const basePath = base?.path ?? '';
  const baseBefore = await sha256(basePath);
  const dir = join(shortTempDir(t), 'warm');

  // The warming QEMU's RAM file is in the staging directory beside `dir`.
  const warming = watchQemu(join(dirname(dir), '.warm.warming-'));
  const record = await warmImage(
    { image: 'debian-12-local', cpus: 2, accel: 'tcg', dir, prep: PREP },
    { readyTimeout: 600_000 },
  ).finally(() => warming.last());
  const warmedUnder = warming.last();
  t.equal(warmedUnder?.seccomp, 2, 'the warming QEMU ran under the seccomp filter (Seccomp: 2)');
  if (root) t.ok(warmedUnder && warmedUnder.uid !== 0, 'the warming QEMU ran as an unprivileged user');
  t.match(record.machineType, /^pc-q35-\d+\.\d+$/, 'the resolved machine type is recorded, not the alias');
  t.equal(record.layers[1]?.path, basePath, 'the layer stands on the base image');
  t.ok(record.vmgenid, 'an x86_64 warm image has a generation ID device');
  t.ok(
    record.stateBytes > 0 && record.stateBytes < 64 * 1024 * 1024,
    'the stream holds device state, not RAM',
  );
  t.equal(statSync(join(dir, WARM_FILES.layer)).mode & 0o777, 0o444, 'the layer is read-only');
  t.equal(statSync(join(dir, WARM_FILES.ram)).mode & 0o777, 0o600, 'the RAM file is private');
  t.same(readdirSync(join(dir, '..')), ['warm'], 'nothing half-made beside it');
  const layerBefore = await sha256(join(dir, WARM_FILES.layer));
  const ramBefore = await sha256(join(dir, WARM_FILES.ram));

  const timed = async (ports?: string[]) => {
    const start = Date.now();
    const guest = (await launch({ image: dir, ports })) as CloudGuest;
    const first = await run(guest, 'cat /var/tmp/warm-file');
    return { guest, ms: Date.now() - start, first };
  };
  const [a, b] = await Promise.all([timed(['0:8000']), timed()]);
  t.teardown(() => Promise.all([a.guest.kill(), b.guest.kill()]));
  t.comment(`spawn → first agent command output: ${a.ms} ms and ${b.ms} ms (two clones at once, TCG)`);
  for (const [name, clone] of [
    ['a', a],
    ['b', b],
  ] as const) {
    t.same(clone.first, { code: 0, out: 'warmed' }, `clone ${name} has the file written while warming`);
  }

  for (const [name, clone] of [
    ['a', a],
    ['b', b],
  ] as const) {
    const confined = confinementOf(clone.guest.pid);
    t.equal(confined?.seccomp, 2, `clone ${name}'s QEMU runs under the seccomp filter (Seccomp: 2)`);
    if (root) t.ok(confined && confined.uid !== 0, `clone ${name}'s QEMU runs as an unprivileged user`);
  }

  const warmPid = await run(a.guest, 'cat /var/tmp/warm-pid');
  for (const guest of [a.guest, b.guest]) {
    const pid = await run(guest, 'p=$(cat /var/tmp/warm-pid) && kill -0 "$p" && echo "$p"');
    t.same(pid, warmPid, 'the service started while warming runs on with the same PID');
  }
  const forward = (await a.guest.listForwards()).find((f) => f.guestPort === 8000);
  t.equal(
    await get(forward?.hostPort ?? 0),
    'warmed\n',
    "the service answers through the clone's fresh forward",
  );

  t.same(await run(a.guest, 'echo a > /var/tmp/only-a && sync'), { code: 0, out: '' });
  t.equal(
    (await run(b.guest, 'test -e /var/tmp/only-a')).code,
    1,
    "a file one clone writes is not in the other's disk",
  );

  const random = await Promise.all(
    [a.guest, b.guest].map((g) => run(g, 'head -c 16 /dev/urandom | od -An -tx1')),
  );
  t.not(random[0]?.out, random[1]?.out, 'the clones draw different random bytes');

  for (const guest of [a.guest, b.guest]) {
    const skew = await clockSkew(guest);
    t.ok(skew < 1, `the clone's clock is the host's (outside the host's by ${skew.toFixed(2)} s)`);
  }

  const dirs = [a.guest.dir, b.guest.dir];
  await Promise.all([a.guest.stop(), b.guest.stop()]);
  t.notOk(
    dirs.some((d) => existsSync(d)),
    "the clones' run directories are gone",
  );
  t.equal(await sha256(join(dir, WARM_FILES.layer)), layerBefore, 'the layer is byte for byte unchanged');
  t.equal(await sha256(join(dir, WARM_FILES.ram)), ramBefore, 'the RAM file is byte for byte unchanged');
  t.equal(await sha256(basePath), baseBefore, 'the base image is byte for byte unchanged');

  // A record from another QEMU is refused before anything starts.
  const recordPath = join(dir, WARM_FILES.record);
  const text = readFileSync(recordPath, 'utf8');
  writeFileSync(
    recordPath,
    JSON.stringify({ ...JSON.parse(text), qemu: { ...record.qemu, version: '1.2.3' } }),
  );
  const runs = readdirSync(join(runtime, 'qlaunch'));
  await t.rejects(launch({ image: dir }), {
    code: 'WARM_INCOMPATIBLE',
    message: /QEMU 1\.2\.3/,
    hint: /warm it again/,
  });
  t.same(readdirSync(join(runtime, 'qlaunch')), runs, 'no run directory was made for the refused clone');
  writeFileSync(recordPath, text);
});
