// Bad input through the CLI, command by command: each is refused with `qlaunch: WHAT` and a `fix:` line, never an
// `unexpected error` with a stack trace, and before any work starts (nothing made, no guest booted).

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { rawDisk } from '../image/disks.js';
import { imageServer } from '../image/image-server.js';

t.setTimeout(600_000);

const dir = shortTempDir(t);
const home = join(dir, 'home');
const disk = join(dir, 'disk.raw');
writeFileSync(disk, rawDisk());
const fakeQcow2 = join(dir, 'x.qcow2');
writeFileSync(fakeQcow2, randomBytes(1024 * 1024));
const userDataDir = join(dir, 'ud-dir');
mkdirSync(userDataDir);
const userData = join(dir, 'ud.yaml');
writeFileSync(userData, '#cloud-config\n{}\n');
const bomb = join(dir, 'bomb.yaml');
const levels = Array.from(
  { length: 9 },
  (_, i) => `l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(',')}]`,
);
writeFileSync(bomb, `#cloud-config\nl0: &l0 [lol]\n${levels.join('\n')}\n`);

const q = (args: string[]) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    timeout: 60_000,
    env: { ...process.env, QLAUNCH_HOME: home, XDG_RUNTIME_DIR: dir },
  });

/** [the command line, what the message must say] */
const BAD: [string[], RegExp][] = [
  [['create', 'w', '--image', disk, '--wait', 'bogus'], /--wait bogus is not a readiness check/],
  [['start', 'w', '--timeout=-5'], /--timeout -5 is not a positive number of seconds/],
  [['start', 'w', '--timeout', 'soon'], /--timeout given is not a positive number of seconds/],
  [['stop', 'w', '--timeout=-1'], /--timeout -1 is not a number of seconds of 0 or more/],
  [['exec', 'w', '--timeout', '0', '--', 'true'], /--timeout 0 is not a positive number/],
  [['logs', 'w', '-n', '-1'], /--lines -1 is not a whole number of 0 or more/],
  [['run', '--kernel', disk, '--timeout', '0'], /--timeout 0 is not a positive number/],
  [['run', '--kernel', disk, '--port', '2222:22:33'], /'2222' is not an IPv4 host address/],
  [['create', 'p', '--image', disk, '--port', '2222:22:33'], /'2222' is not an IPv4 host address/],
  [['create', 'm', '--image', disk, '--memory', '10T'], /memory 10240 GiB is more than this host has/],
  [['image', 'import', fakeQcow2], /is named like a qcow2 image, but its contents are raw/],
  [['image', 'import', disk, '--name', 'Bad Name!'], /not a valid image name|is not valid/],
  [['run', '--kernel', join(dir, 'missing')], /kernel .*missing does not exist/],
  [['run', '--kernel', disk, '--network', 'private:lab'], /--network and --hostname are for images/],
  [['run', disk, '--network', 'none'], /always have user networking/],
  [['run', disk, '--network', 'private:Lab'], /private network name 'Lab' is not valid/],
  [['ssh', 'nosuch'], /no instance named nosuch/],
  [['rm', 'nosuch'], /no instance named nosuch/],
  [['port', 'add', 'nosuch', '8080:80'], /no instance named nosuch/],
  [
    ['seed', join(dir, 'seed.iso'), join(dir, 'missing.yaml')],
    /user-data file .*missing\.yaml does not exist/,
  ],
  [
    ['run', '--kernel', disk, '--mount', join(dir, 'no-such-dir')],
    /host directory .*no-such-dir does not exist/,
  ],
  [['run', '--kernel', disk, '--mount', disk], /host path .*disk\.raw is not a directory/],
  [
    ['run', '--kernel', disk, '--mount', `${dir}:/x`, '--mount', `${userDataDir}:/x`],
    /guest path \/x is mounted twice/,
  ],
  [['run', '--kernel', disk, '--mount', `${dir}:/x:rw,type=nfs`], /mount type 'nfs' is not known/],
  [
    ['create', 'mnt', '--image', disk, '--mount', join(dir, 'no-such-dir')],
    /host directory .*no-such-dir does not exist/,
  ],
];

for (const [args, says] of BAD) {
  t.test(args.join(' '), async (t) => {
    const result = await q(args);
    t.not(result.exitCode, 0, 'fails');
    t.notMatch(result.stderr, /unexpected error|\n\s+at /, 'no stack trace');
    t.match(result.stderr, /^qlaunch: /, 'says what went wrong');
    t.match(result.stderr, says);
    t.match(result.stderr, /\n {2}fix: \S/, 'says how to fix it');
    t.notMatch(result.stderr, /booting|ready after/, 'no guest started');
  });
}

t.test('nothing was made by any of them', async (t) => {
  const instances = join(home, 'instances');
  t.same(existsSync(instances) ? readdirSync(instances) : [], []);
  const images = join(home, 'images');
  t.same(existsSync(images) ? readdirSync(images) : [], []);
  t.notOk(existsSync(join(dir, 'seed.iso')));
});

t.test('a forward beyond loopback is allowed when asked for, with a warning', async (t) => {
  const created = await q(['create', 'open', '--image', disk, '--port', '0.0.0.0:2280:80']);
  t.equal(created.exitCode, 0, created.stderr);
  t.match(
    created.stderr,
    'qlaunch: warning: guest port 80 is reachable from other machines on 0.0.0.0:2280; leave the address out',
  );
  const quiet = await q(['create', 'closed', '--image', disk, '--port', '2281:80']);
  t.equal(quiet.exitCode, 0, quiet.stderr);
  t.notMatch(quiet.stderr, /warning/);
  await q(['rm', 'open', 'closed']);
});

t.test('an image recorded for one architecture is refused for another, naming both', async (t) => {
  const own = join(shortTempDir(t), 'home');
  const qh = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: own },
    });
  t.equal((await qh(['image', 'import', disk, '--name', 'smallx', '--arch', 'x86_64'])).exitCode, 0);
  const machine = join(shortTempDir(t), 'm.yaml');
  writeFileSync(machine, 'name: viafile\narch: riscv64\nimage:\n  name: smallx\n');
  for (const args of [
    ['create', 'ab', '--image', 'smallx', '--arch', 'riscv64'],
    ['create', 'ab', '--machine', machine],
    ['run', 'smallx', '--arch', 'riscv64', '--', 'true'],
  ]) {
    const result = await qh(args);
    t.equal(result.exitCode, 1, args.join(' '));
    t.match(result.stderr, 'qlaunch: image smallx is for x86_64, not riscv64\n  fix: run it as x86_64');
  }
  t.notOk(existsSync(join(own, 'instances', 'ab')), 'nothing made');
});

t.test(
  'two machine files naming different URLs alike: the second is refused, not stood on the first',
  async (t) => {
    const own = join(shortTempDir(t), 'home');
    const qh = (args: string[]) =>
      execa(process.execPath, [cliPath, ...args], {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: own },
      });
    const first = rawDisk();
    const second = Buffer.from(rawDisk());
    second[600] = 1;
    const server = await imageServer(t, { '/one.raw': { body: first }, '/two.raw': { body: second } });
    const sha = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const files = shortTempDir(t);
    const machine = (file: string, url: string, checksum: string) => {
      const path = join(files, file);
      writeFileSync(path, `name: shared\narch: x86_64\nimage:\n  url: ${url}\n  checksum: ${checksum}\n`);
      return path;
    };
    const one = machine('one.yaml', server.url('/one.raw'), sha(first));
    const two = machine('two.yaml', server.url('/two.raw'), sha(second));
    const made = await qh(['create', 'a', '--machine', one]);
    t.equal(made.exitCode, 0, made.stderr);
    const again = await qh(['create', 'b', '--machine', one]);
    t.equal(again.exitCode, 0, 'the same URL and checksum reuse the stored image');
    t.equal(server.hits('/one.raw'), 1, 'downloaded once');
    const other = await qh(['create', 'c', '--machine', two]);
    t.equal(other.exitCode, 1);
    t.match(
      other.stderr,
      `qlaunch: image 'shared' is already stored with ${sha(first)}, but ${server.url('/two.raw')} should be ${sha(second)}`,
    );
    t.match(other.stderr, /fix: remove it \(qlaunch image rm shared\)/);
    t.notOk(existsSync(join(own, 'instances', 'c')));
  },
);

t.test('a URL’s credentials and tokens stay out of records and messages', async (t) => {
  const own = join(shortTempDir(t), 'home');
  const qh = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: own },
    });
  const body = rawDisk();
  const server = await imageServer(t, { '/d.raw': { body } });
  const checksum = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  const pulled = await qh(['image', 'pull', server.url('/d.raw?token=SECRET-TOKEN'), '--checksum', checksum]);
  t.equal(pulled.exitCode, 0, pulled.stderr);
  const listed = await qh(['image', 'ls', '--json']);
  t.match(listed.stdout, 'd.raw?token=***');
  const record = readdirSync(join(own, 'images')).map((name) =>
    readFileSync(join(own, 'images', name, 'image.json'), 'utf8'),
  );
  for (const text of [
    pulled.stdout + pulled.stderr,
    listed.stdout,
    (await qh(['image', 'ls'])).stdout,
    ...record,
  ])
    t.notMatch(text, 'SECRET-TOKEN');
  const missing = await qh([
    'image',
    'pull',
    server.url('/none.raw?token=SECRET-TOKEN'),
    '--checksum',
    checksum,
  ]);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /HTTP 404/);
  t.notMatch(missing.stderr, 'SECRET-TOKEN');
  const withPassword = server.url('/d.raw').replace('://', '://user:PASSWORD@');
  const refused = await qh(['image', 'pull', withPassword, '--checksum', checksum, '--name', 'other']);
  t.equal(refused.exitCode, 1);
  t.match(refused.stderr, /carries a user name and password, which qlaunch does not send/);
  t.notMatch(refused.stderr, 'PASSWORD');
});
