import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath } from '../fixtures/guests.js';
import { makeQcow2, rawDisk } from '../image/disks.js';
import { imageServer } from '../image/image-server.js';

// Many CLI runs and local downloads: on a busy 2-core host the file takes over a minute.
t.setTimeout(180_000);

/** qlaunch with its own QLAUNCH_HOME, so the real home is never touched. */
const cli = (home: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home, ...env },
    extendEnv: false,
  });

const fixtures = t.testdir({ 'disk.raw': rawDisk(), 'notes.txt': 'not a disk\n'.repeat(50) });
const qcow2Path = await makeQcow2(fixtures, 'jammy.qcow2');
const QCOW2 = readFileSync(qcow2Path);
const SHA256 = createHash('sha256').update(QCOW2).digest('hex');

t.test('import, ls, inspect, rm: the whole round, human and JSON', async (t) => {
  const home = join(t.testdir(), 'home');
  const imported = await cli(home, ['image', 'import', qcow2Path, '--arch', 'aarch64']);
  t.equal(imported.exitCode, 0, imported.stderr);
  t.match(
    imported.stdout,
    /^imported jammy: qcow2, 64\.0 MiB virtual, [\d.]+ [KM]iB on disk, aarch64; sha256:[0-9a-f]{12}…$/,
  );
  t.match(imported.stderr, /importing .*jammy\.qcow2\s+100%/, 'progress on stderr');
  const raw = await cli(home, ['image', 'import', join(fixtures, 'disk.raw'), '--name', 'blank', '--json']);
  t.equal(raw.exitCode, 0, raw.stderr);
  t.match(JSON.parse(raw.stdout), {
    name: 'blank',
    format: 'raw',
    virtualSize: 2048 * 512,
    origin: 'import',
  });

  const ls = await cli(home, ['image', 'ls']);
  t.equal(ls.exitCode, 0, ls.stderr);
  const lines = ls.stdout.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+FORMAT\s+VIRTUAL\s+SIZE\s+ARCH\s+CHECKSUM\s+SOURCE$/);
  t.match(lines[1], /^blank\s+raw\s+1\.0 MiB\s+1\.0 MiB\s+-\s+sha256:[0-9a-f]{12}…\s+\/.*disk\.raw$/);
  t.match(lines[2], /^jammy\s+qcow2\s+64\.0 MiB/);
  const lsJson = JSON.parse((await cli(home, ['image', 'ls', '--json'])).stdout);
  t.same(
    lsJson.map((i: { name: string }) => i.name),
    ['blank', 'jammy'],
  );
  t.equal(lsJson[1].checksum, `sha256:${SHA256}`);

  const inspect = await cli(home, ['image', 'inspect', 'jammy', '--json']);
  t.equal(inspect.exitCode, 0, inspect.stderr);
  const facts = JSON.parse(inspect.stdout);
  t.match(facts, {
    name: 'jammy',
    format: 'qcow2',
    info: { format: 'qcow2', virtualSize: 64 * 1024 * 1024, backingChain: [] },
  });
  t.equal(facts.path, join(home, 'images', 'jammy', 'disk.qcow2'));
  t.equal(statSync(facts.path).mode & 0o777, 0o444);
  t.equal(statSync(join(home, 'images')).mode & 0o777, 0o700);
  const human = await cli(home, ['image', 'inspect', 'jammy']);
  t.match(human.stdout, /^name:\s+jammy$/m);
  t.match(human.stdout, /^virtual size:\s+64\.0 MiB \(67108864 bytes\)$/m);
  t.match(human.stdout, /^backing chain:\s+none$/m);

  const rm = await cli(home, ['image', 'rm', 'jammy']);
  t.equal(rm.exitCode, 0, rm.stderr);
  t.equal(rm.stdout, `removed jammy (${join(home, 'images', 'jammy')})`);
  const again = await cli(home, ['image', 'rm', 'jammy']);
  t.equal(again.exitCode, 1);
  t.match(
    again.stderr,
    /qlaunch: there is no image 'jammy' in .*\n {2}fix: `qlaunch image ls` lists the images/,
  );
  const inspectGone = await cli(home, ['image', 'inspect', 'jammy']);
  t.equal(inspectGone.exitCode, 1);
  t.same(readdirSync(join(home, 'images')), ['blank']);

  mkdirSync(join(home, 'images', 'damaged'));
  const warned = await cli(home, ['image', 'ls']);
  t.equal(warned.exitCode, 0);
  t.match(
    warned.stderr,
    /^qlaunch: warning: image 'damaged' is damaged \(cannot read .*\); qlaunch image rm damaged removes it$/m,
  );
  t.match(warned.stdout, /^blank /m);
  t.match(warned.stdout, /^damaged\s+-\s+-\s+-\s+-\s+-\s+-\s+damaged: cannot read .*damaged\/image\.json$/m);
  const warnedJson = JSON.parse((await cli(home, ['image', 'ls', '--json'])).stdout);
  t.match(warnedJson, [
    { name: 'blank', format: 'raw' },
    { name: 'damaged', error: /^cannot read .*damaged\/image\.json$/ },
  ]);
  t.equal(warnedJson.length, 2, 'a damaged image is listed in JSON too, with an error');
});

t.test('import refuses a text file and a corrupt qcow2, naming the file', async (t) => {
  const home = join(t.testdir(), 'home');
  const text = await cli(home, ['image', 'import', join(fixtures, 'notes.txt')]);
  t.equal(text.exitCode, 1);
  t.match(
    text.stderr,
    `qlaunch: ${join(fixtures, 'notes.txt')} is not a usable disk image: it starts with text`,
  );
  const dir = t.testdir();
  const corrupt = await makeQcow2(dir, 'broken.qcow2');
  await execa('truncate', ['-s', '100K', corrupt]);
  const broken = await cli(home, ['image', 'import', corrupt]);
  t.equal(broken.exitCode, 1);
  t.match(broken.stderr, /broken\.qcow2 is not a usable disk image: qemu-img check finds it damaged/);
  t.notOk(existsSync(join(home, 'images')), 'nothing was stored');
});

t.test('pull from a URL: checksum file, progress on stderr, no second download, --json', async (t) => {
  const server = await imageServer(t, {
    '/cloud/jammy.qcow2': { body: QCOW2 },
    '/cloud/SHA256SUMS': { body: `${SHA256} *jammy.qcow2\n` },
  });
  const home = join(t.testdir(), 'home');
  const url = server.url('/cloud/jammy.qcow2');
  const first = await cli(home, ['image', 'pull', url, '--checksum-url', server.url('/cloud/SHA256SUMS')]);
  t.equal(first.exitCode, 0, first.stderr);
  t.match(first.stdout, /^pulled jammy: qcow2, 64\.0 MiB virtual, .*; sha256:[0-9a-f]{12}… verified$/);
  t.match(
    first.stderr,
    /^pulling jammy\s+100%\s+[\d.]+ KiB \/ [\d.]+ KiB/m,
    'plain progress lines when not a TTY',
  );
  t.notMatch(first.stderr, /\r/);
  const second = await cli(home, [
    'image',
    'pull',
    url,
    '--checksum',
    `sha256:${SHA256}`,
    '--name',
    'jammy',
    '--json',
  ]);
  t.equal(second.exitCode, 0, second.stderr);
  t.match(JSON.parse(second.stdout), {
    name: 'jammy',
    downloaded: false,
    verified: true,
    checksum: `sha256:${SHA256}`,
  });
  t.equal(server.hits('/cloud/jammy.qcow2'), 1, 'downloaded once');
  const human = await cli(home, ['image', 'pull', url, '--checksum', `sha256:${SHA256}`]);
  t.match(human.stdout, /^jammy is already stored \(sha256:[0-9a-f]{12}…\): nothing downloaded$/);
});

t.test('pull failures: HTTP status and URL, wrong checksum, no checksum; nothing is left', async (t) => {
  const server = await imageServer(t, { '/jammy.qcow2': { body: QCOW2 } });
  const home = join(t.testdir(), 'home');
  const missing = await cli(home, [
    'image',
    'pull',
    server.url('/gone.qcow2'),
    '--checksum',
    `sha256:${SHA256}`,
  ]);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, `qlaunch: GET ${server.url('/gone.qcow2')} failed: HTTP 404 Not Found`);
  const wrong = await cli(home, [
    'image',
    'pull',
    server.url('/jammy.qcow2'),
    '--checksum',
    `sha256:${'0'.repeat(64)}`,
  ]);
  t.equal(wrong.exitCode, 1);
  t.match(wrong.stderr, /has sha256:[0-9a-f]{64}, not the expected sha256:0{64}/);
  const none = await cli(home, ['image', 'pull', server.url('/jammy.qcow2')]);
  t.equal(none.exitCode, 1);
  t.match(none.stderr, /nothing to verify .* against\n {2}fix: pass --checksum sha256:HEX/);
  t.same(readdirSync(join(home, 'images')), [], 'no image, no scratch directory');
  const loose = await cli(home, ['image', 'pull', server.url('/jammy.qcow2'), '--no-verify']);
  t.equal(loose.exitCode, 0, loose.stderr);
  t.match(loose.stdout, /NOT verified/);
  const usage = await cli(home, ['image', 'pull', server.url('/jammy.qcow2'), '--name', 'Bad']);
  t.equal(usage.exitCode, 1);
  t.match(usage.stderr, /'Bad' is not a valid image name/);
});

t.test('Ctrl-C during a pull stops it, removes the partial download and exits 130', async (t) => {
  const server = await imageServer(t, { '/slow.qcow2': { body: QCOW2, stallAfter: 200_000 } });
  const home = join(t.testdir(), 'home');
  const child = cli(home, ['image', 'pull', server.url('/slow.qcow2'), '--checksum', `sha256:${SHA256}`]);
  await server.stalled;
  const images = join(home, 'images');
  // The server has sent its bytes; wait until the CLI is writing them.
  const partial = async (): Promise<string | undefined> => {
    for (let i = 0; i < 200; i++) {
      const scratch = existsSync(images) ? readdirSync(images) : [];
      const part = scratch[0] && join(images, scratch[0], 'download.part');
      if (part && existsSync(part) && statSync(part).size > 0) return scratch[0];
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return undefined;
  };
  t.match(await partial(), /^\.tmp-\d+-/, 'the download was in flight in a scratch directory');
  child.kill('SIGINT');
  const result = await child;
  t.equal(result.exitCode, 130, result.stderr);
  t.match(result.stderr, /SIGINT: stopping; nothing half-made is kept/);
  t.match(result.stderr, /aborted/);
  t.same(readdirSync(images), [], 'nothing left in the store');
});

t.test('pull by template name: unknown names are clear errors', async (t) => {
  const home = join(t.testdir(), 'home');
  const result = await cli(home, ['image', 'pull', 'no-such-template']);
  t.equal(result.exitCode, 1);
  t.match(result.stderr, /no-such-template/);
});

t.test('build: a taken name, a missing tool or an arch the release lacks fail before any work', async (t) => {
  const home = join(t.testdir(), 'home');
  t.equal((await cli(home, ['image', 'import', qcow2Path, '--name', 'debian-12-local'])).exitCode, 0);
  const taken = await cli(home, ['image', 'build', 'debian-12', '--arch', 'x86_64']);
  t.equal(taken.exitCode, 1);
  t.match(taken.stderr, /an image 'debian-12-local' is already in .*\n {2}fix: remove it first/);
  const noTools = await cli(home, ['image', 'build', 'debian-12', '--arch', 'aarch64'], {
    PATH: '/nonexistent',
  });
  t.equal(noTools.exitCode, 1);
  t.match(noTools.stderr, /mmdebstrap is not installed.*\n {2}fix: apt-get install mmdebstrap/);
  const noPort = await cli(home, ['image', 'build', 'debian-12', '--arch', 'riscv64']);
  t.equal(noPort.exitCode, 1);
  t.match(
    noPort.stderr,
    /Debian 12 \(bookworm\) image for 'riscv64'\n {2}fix: .*build debian-13 for riscv64/,
  );
  t.same(readdirSync(join(home, 'images')), ['debian-12-local'], 'no scratch directory left');
  // run of a template that builds debian-13 asks the builder for trixie (stopped early here: no mmdebstrap).
  const viaRun = await cli(home, ['run', '--arch', 'riscv64', 'debian-13-local', '--', 'true'], {
    PATH: '/nonexistent',
  });
  t.equal(viaRun.exitCode, 1);
  t.match(viaRun.stderr, /mmdebstrap is not installed/);
  t.notMatch(viaRun.stderr, /bookworm/);
  const badRecipe = await cli(home, ['image', 'build', 'arch-linux']);
  t.equal(badRecipe.exitCode, 2);
});
