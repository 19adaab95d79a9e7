// Hostile disk images through the CLI's entry points (image import, run FILE, a machine file naming a path,
// create --image; for some also image pull and a machine file naming a URL): each refused within seconds,
// before QEMU starts, with nothing stored or made.
// And images a store already holds that the format inspector refuses: flagged by ls and inspect, never booted.

import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { metadataJson } from '../../lib/image/image-metadata.js';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { canaryReaders, type HostileImage, makeHostileImages, releaseFifo } from '../image/hostile-images.js';
import { imageServer } from '../image/image-server.js';

// About 60 CLI runs of half a second each when the machine is idle; minutes when guests boot beside them.
t.setTimeout(900_000);
/** Far above any real refusal, even on a loaded machine; a FIFO read that hangs never ends at all. */
const HANG_MS = 60_000;

const hostile = await makeHostileImages(join(t.testdir(), 'hostile'));
t.teardown(() => releaseFifo(hostile.fifo));
// Through the CLI, the kinds from the reports and the common formats; the library test covers every one.
const CLI_CASES = [
  'qcow2-backing',
  'qcow2-data-file',
  'qcow2-data-fifo',
  'qcow2-data-device',
  'vmdk-flat',
  'vmdk-sparse',
  'vhdx',
  'vpc',
  'qed',
  'luks',
  'html',
];
const images = hostile.images.filter((i) => CLI_CASES.includes(i.name));
// Downloads go through the same check as files (the library test pulls every case): a few kinds suffice here.
const REMOTE_CASES = ['qcow2-data-file', 'qcow2-data-fifo', 'vmdk-flat', 'vhdx'];

const server = await imageServer(
  t,
  Object.fromEntries(images.map((i) => [`/images/${basename(i.path)}`, { body: readFileSync(i.path) }])),
);
const sha256 = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const slowest: Record<string, number> = {};

interface Env {
  home: string;
  runtime: string;
}

/** qlaunch with its own home and runtime directory; killed if it takes longer than a refusal may. */
async function qlaunch(env: Env, args: string[]) {
  const started = performance.now();
  const result = await execa(process.execPath, [cliPath, ...args], {
    reject: false,
    timeout: 30_000,
    env: { ...process.env, QLAUNCH_HOME: env.home, XDG_RUNTIME_DIR: env.runtime },
    extendEnv: false,
  });
  return { ...result, ms: performance.now() - started };
}

/** The command failed quickly, before any guest booted, saying what `source` is and how to fix it. */
async function refused(t: Test, what: string, env: Env, args: string[], source: string, image: HostileImage) {
  const result = await qlaunch(env, args);
  slowest[what] = Math.max(slowest[what] ?? 0, result.ms);
  t.equal(result.exitCode, 1, `${what}: exit 1`);
  t.match(
    result.stderr,
    new RegExp(`qlaunch: ${escapeRegExp(source)} is not a usable disk image: ${image.problem.source}`),
    `${what}: says why`,
  );
  t.match(
    result.stderr,
    /\n {2}fix: .*(qemu-img convert -f \w+ -O qcow2|unencrypted|disk image itself)/,
    `${what}: says the fix`,
  );
  t.notMatch(result.stderr, /booting|ready after/, `${what}: no guest started`);
  // Not a timing target: what this rules out is a hang (a FIFO read waits forever). A node start-up is about 0.5 s
  // idle, but 16 s was seen with guests booting beside it, so the bound is far above both.
  t.ok(result.ms < HANG_MS, `${what}: refused in ${Math.round(result.ms)} ms`);
}

const machineFile = (dir: string, name: string, image: string): string => {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, `name: ${name}\nimage:\n${image}`);
  return path;
};

for (const image of images) {
  t.test(image.name, async (t) => {
    t.setTimeout(image.name === 'qcow2-data-fifo' ? 120_000 : 240_000);
    const env: Env = { home: join(shortTempDir(t), 'home'), runtime: shortTempDir(t) };
    const dir = t.testdir();
    const url = server.url(`/images/${basename(image.path)}`);
    const checksum = sha256(image.path);
    const local = machineFile(dir, 'from-path', `  path: ${image.path}\n`);
    const remote = machineFile(dir, 'from-url', `  url: ${url}\n  checksum: ${checksum}\n`);

    const file = image.path;
    await refused(t, 'image import', env, ['image', 'import', file, '--name', 'evil'], file, image);
    await refused(t, 'run FILE', env, ['run', file, '--accel', 'tcg', '--', 'true'], file, image);
    const viaPath = ['run', '--machine', local, '--accel', 'tcg', '--', 'true'];
    await refused(t, 'run --machine (image: path)', env, viaPath, file, image);
    await refused(t, 'create --image FILE', env, ['create', 'box', '--image', file], file, image);
    if (REMOTE_CASES.includes(image.name)) {
      const pull = ['image', 'pull', url, '--checksum', checksum, '--name', 'evil'];
      await refused(t, 'image pull', env, pull, url, image);
      const viaUrl = ['run', '--machine', remote, '--accel', 'tcg', '--', 'true'];
      await refused(t, 'run --machine (image: url)', env, viaUrl, url, image);
    }

    const stored = join(env.home, 'images');
    t.same(existsSync(stored) ? readdirSync(stored) : [], [], 'nothing stored, no scratch left');
    t.notOk(existsSync(join(env.home, 'instances', 'box')), 'no instance directory');
    t.same(
      readdirSync(env.runtime).flatMap((d) => readdirSync(join(env.runtime, d))),
      [],
      'no run directory left',
    );
    const readers = await canaryReaders([env.home, env.runtime], join(dir, 'scratch'));
    t.same(readers, [], 'the canary cannot be read through anything qlaunch made');
  });
}

/** Puts `image` into the store as a store made before the inspector existed would have: as qemu-img probed it. */
function plant(home: string, image: HostileImage): void {
  const dir = join(home, 'images', image.name);
  mkdirSync(dir, { recursive: true });
  const disk = `disk.${image.probed}`;
  cpSync(image.path, join(dir, disk));
  const size = readFileSync(image.path).length;
  const record = {
    schema: 1 as const,
    name: image.name,
    format: image.probed,
    disk,
    virtualSize: size,
    size,
    checksum: sha256(image.path),
    origin: 'import' as const,
    source: image.path,
    added: new Date(0).toISOString(),
  };
  writeFileSync(join(dir, 'image.json'), metadataJson(record));
}

t.test(
  'images already stored that the inspector refuses: flagged by ls and inspect, never booted',
  async (t) => {
    t.setTimeout(120_000);
    const env: Env = { home: join(shortTempDir(t), 'home'), runtime: shortTempDir(t) };
    const planted = ['qcow2-data-file', 'qcow2-data-fifo', 'vmdk-flat'].map(
      (name) => hostile.images.find((i) => i.name === name)!,
    );
    for (const image of planted) plant(env.home, image);
    const good = join(t.testdir(), 'good.raw');
    const disk = Buffer.alloc(1024 * 1024);
    disk[510] = 0x55;
    disk[511] = 0xaa;
    writeFileSync(good, disk);
    const imported = await qlaunch(env, ['image', 'import', good, '--name', 'good']);
    t.equal(imported.exitCode, 0, imported.stderr);

    const ls = await qlaunch(env, ['image', 'ls']);
    t.equal(ls.exitCode, 0, ls.stderr);
    t.ok(ls.ms < HANG_MS, `ls in ${Math.round(ls.ms)} ms, the FIFO one too`);
    const lines = ls.stdout.trimEnd().split('\n');
    t.match(lines[0], /^NAME\s+FORMAT\s+VIRTUAL\s+SIZE\s+ARCH\s+CHECKSUM\s+SOURCE\s+PROBLEM$/);
    t.match(lines[1], /^good\s+raw\s+.*\s+-$/, 'a good image has no problem');
    t.match(lines[2], /^qcow2-data-fifo\s+qcow2\s.*it keeps its data in another file \(.*data\.fifo\)/);
    t.match(lines[3], /^qcow2-data-file\s+qcow2\s.*it keeps its data in another file \(.*canary\.bin\)/);
    t.match(lines[4], /^vmdk-flat\s+vmdk\s.*it is a vmdk descriptor/);
    t.match(
      ls.stderr,
      /^qlaunch: warning: image 'vmdk-flat' would be refused now \(.*\); qlaunch image rm vmdk-flat removes it$/m,
    );

    const json = await qlaunch(env, ['image', 'ls', '--json']);
    const listed = JSON.parse(json.stdout) as { name: string; problem?: string }[];
    t.same(
      listed.map((i) => [i.name, i.problem === undefined ? undefined : i.problem.replace(/ \(.*/, '')]),
      [
        ['good', undefined],
        ['qcow2-data-fifo', 'it keeps its data in another file'],
        ['qcow2-data-file', 'it keeps its data in another file'],
        ['vmdk-flat', 'it is a vmdk descriptor, which can make QEMU read other files of this host'],
      ],
    );

    const inspect = await qlaunch(env, ['image', 'inspect', 'qcow2-data-fifo']);
    t.equal(inspect.exitCode, 0, inspect.stderr);
    t.ok(inspect.ms < HANG_MS, `inspect of the FIFO one in ${Math.round(inspect.ms)} ms`);
    t.match(
      inspect.stdout,
      /^problem:\s+it keeps its data in another file \(.*data\.fifo\), .*; qlaunch image rm/m,
    );
    t.notMatch(inspect.stdout, /^backing chain:/m, 'qemu-img was not asked');
    const inspectJson = JSON.parse((await qlaunch(env, ['image', 'inspect', 'vmdk-flat', '--json'])).stdout);
    t.match(inspectJson, { name: 'vmdk-flat', problem: /vmdk descriptor/ });
    t.equal(inspectJson.info, undefined);

    for (const image of planted) {
      const run = await qlaunch(env, ['run', image.name, '--accel', 'tcg', '--', 'true']);
      t.equal(run.exitCode, 1, `run ${image.name} is refused`);
      t.match(run.stderr, image.problem, `run ${image.name} says why`);
      t.ok(run.ms < HANG_MS, `run ${image.name}: refused in ${Math.round(run.ms)} ms`);
      const create = await qlaunch(env, ['create', 'box', '--image', image.name]);
      t.equal(create.exitCode, 1, `create --image ${image.name} is refused`);
      t.match(create.stderr, image.problem);
      t.notOk(existsSync(join(env.home, 'instances', 'box')), 'no instance directory');
    }
    t.same(
      readdirSync(env.runtime).flatMap((d) => readdirSync(join(env.runtime, d))),
      [],
      'no run directory left',
    );
    const made = [join(env.home, 'instances'), env.runtime];
    t.same(await canaryReaders(made, join(t.testdir(), 'scratch')), [], 'no overlay reads the canary');
  },
);

t.test('measured', async (t) => {
  t.comment(
    `slowest refusal per entry point (ms): ${JSON.stringify(slowest, (_, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
  );
});
