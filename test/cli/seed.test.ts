import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { parse } from 'yaml';
import { mcopyExtract, osirroxExtract } from '../cidata/readers.js';
import { cliPath, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(300_000);

const qlaunch = (args: string[], input?: string | Uint8Array) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, ...(input === undefined ? {} : { input }) });

// A private qlaunch home, so the checks of what `seed` may replace never read the real one.
const emptyHome = t.testdir({});
const q0 = (args: string[], input?: string | Uint8Array) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: emptyHome },
    ...(input === undefined ? {} : { input }),
  });
const blkidOf = async (path: string) => (await execa('blkid', ['-p', '-o', 'export', path])).stdout;

const USER_DATA = '#cloud-config\nhostname: seeded\nruncmd:\n  - echo hi\n';
const NETWORK = 'version: 2\nethernets:\n  all:\n    match: {name: "e*"}\n    dhcp4: true\n';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF4aZC7Wg4JmS0Zr5a5eWQ9nT4o3bqPj4eD1rB6m1hVJ test@host\n';

t.test('seed writes an ISO that independent readers see as a cidata volume with exact files', async (t) => {
  const dir = t.testdir({
    'user-data': USER_DATA,
    'network-config': NETWORK,
    'vendor-data': '#cloud-config\n',
    'k.pub': KEY,
  });
  const out = join(dir, 'seed.iso');
  const result = await qlaunch([
    'seed',
    out,
    join(dir, 'user-data'),
    '--network-config',
    join(dir, 'network-config'),
    '-V',
    join(dir, 'vendor-data'),
    '--hostname',
    'box',
    '--ssh-key',
    join(dir, 'k.pub'),
    '--instance-id',
    'iid-test',
  ]);
  t.equal(result.exitCode, 0, result.stderr);
  t.match(
    result.stdout,
    /^wrote .*seed\.iso \(iso9660, \d+ KiB, instance-id iid-test\): meta-data, user-data, network-config, vendor-data$/,
  );
  t.equal(statSync(out).mode & 0o777, 0o600, 'seeds may hold secrets: 0600');
  const blkid = await execa('blkid', ['-o', 'export', out]);
  t.match(blkid.stdout, /LABEL=cidata/);
  t.match(blkid.stdout, /TYPE=iso9660/);
  const { files } = await osirroxExtract(out, join(dir, 'x'));
  t.equal(files.get('user-data')?.toString(), USER_DATA, 'user-data passed through untouched');
  t.equal(files.get('network-config')?.toString(), NETWORK);
  t.same(parse(files.get('meta-data')?.toString() ?? ''), {
    'instance-id': 'iid-test',
    'local-hostname': 'box',
    'public-keys': [KEY.trim()],
  });
  const info = await execa('isoinfo', ['-J', '-f', '-i', out]);
  t.match(info.stdout, /\/user-data/, 'Joliet names are the real names');
});

t.test('vfat seed, user-data from stdin, meta-data passed through, --json', async (t) => {
  const dir = t.testdir({ 'meta-data': 'instance-id: iid-mine\nlocal-hostname: mine\n' });
  const out = join(dir, 'seed.img');
  const result = await qlaunch(
    ['seed', '--json', '-f', 'vfat', out, '-', join(dir, 'meta-data')],
    '#!/bin/sh\necho script\n',
  );
  t.equal(result.exitCode, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  t.equal(summary.filesystem, 'vfat');
  t.equal(summary.instanceId, 'iid-mine');
  t.equal(summary.userData, 'script');
  t.same(
    summary.files.map((f: { name: string }) => f.name),
    ['meta-data', 'user-data'],
  );
  t.equal(summary.bytes, statSync(out).size);
  const blkid = await execa('blkid', ['-o', 'export', out]);
  t.match(blkid.stdout, /LABEL=CIDATA/);
  t.match(blkid.stdout, /TYPE=vfat/);
  t.equal((await execa('fsck.vfat', ['-n', out], { reject: false })).exitCode, 0, 'fsck.vfat -n is clean');
  t.equal(
    (await execa('mtype', ['-i', out, '::/meta-data'])).stdout,
    'instance-id: iid-mine\nlocal-hostname: mine',
  );
  t.equal((await execa('mtype', ['-i', out, '::/user-data'])).stdout, '#!/bin/sh\necho script');
});

t.test('bad input: a clear error and no partial image', async (t) => {
  const dir = t.testdir({
    'plain.yaml': 'hostname: x\n',
    'broken.yaml': '#cloud-config\nruncmd: [a, b\n',
    'ok.yaml': '#cloud-config\n',
    'net.yaml': 'ethernets: {}\n',
    id_ed25519: '-----BEGIN OPENSSH PRIVATE KEY-----\nxxx\n',
    outdir: {},
  });
  const out = join(dir, 'seed.iso');
  const cases: [string[], RegExp][] = [
    [['seed', out, join(dir, 'missing.yaml')], /user-data file .*missing\.yaml does not exist/],
    [
      ['seed', out, join(dir, 'plain.yaml')],
      /plain\.yaml is not user-data[\s\S]*fix: start a cloud-config with the line #cloud-config/,
    ],
    [['seed', out, join(dir, 'broken.yaml')], /broken\.yaml is not valid YAML at line \d+/],
    [
      ['seed', out, join(dir, 'ok.yaml'), '-N', join(dir, 'net.yaml')],
      /net\.yaml has no network config version/,
    ],
    [
      ['seed', out, join(dir, 'ok.yaml'), '--ssh-key', join(dir, 'id_ed25519')],
      /does not hold SSH public keys[\s\S]*never the private key/,
    ],
    [
      ['seed', out, join(dir, 'ok.yaml'), '--hostname', 'bad name!'],
      /hostname 'bad name!' is not a valid host name/,
    ],
    [['seed', join(dir, 'outdir'), join(dir, 'ok.yaml')], /Cannot write seed image .*outdir/],
    [['seed', join(dir, 'no/such/dir/seed.iso'), join(dir, 'ok.yaml')], /Cannot write seed image/],
  ];
  for (const [args, message] of cases) {
    const result = await qlaunch(args);
    t.equal(result.exitCode, 1, args.join(' '));
    t.match(result.stderr, message, args.join(' '));
  }
  t.notOk(existsSync(out), 'no image left behind');
  t.same(readdirSync(join(dir, 'outdir')), [], 'nothing written into the directory');
  t.same(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp files',
  );
  const usage = await qlaunch(['seed', out]);
  t.equal(usage.exitCode, 2, 'a missing argument is a usage error');
  t.ok(readFileSync(join(dir, 'ok.yaml')), 'inputs untouched');
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A qlaunch home with instance `a` standing on the user's own qcow2 `x.qcow2`, and a stored image's disk. */
async function homeWithInstance(t: Test) {
  const dir = t.testdir({ 'ud.yaml': USER_DATA });
  // Short: an instance's socket paths must fit the OS limit.
  const home = join(shortTempDir(t), 'home');
  const env = { QLAUNCH_HOME: home };
  const q = (args: string[], input?: string) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, ...env },
      ...(input === undefined ? {} : { input }),
    });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'x.qcow2'), '1G']);
  const created = await q(['create', 'a', '--image', join(dir, 'x.qcow2'), '--accel', 'tcg']);
  t.equal(created.exitCode, 0, created.stderr);
  const stored = join(home, 'images', 'foo');
  mkdirSync(stored, { recursive: true });
  await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(stored, 'disk.qcow2'), '1G']);
  chmodSync(join(stored, 'disk.qcow2'), 0o444);
  return { dir, home, q, ud: join(dir, 'ud.yaml') };
}

t.test(
  'seed never replaces a disk an instance uses, the image store, or an instance directory',
  async (t) => {
    const { dir, home, q, ud } = await homeWithInstance(t);
    const disk = join(dir, 'x.qcow2');
    const storedDisk = join(home, 'images', 'foo', 'disk.qcow2');
    symlinkSync(storedDisk, join(dir, 'link.iso'));
    const before = {
      disk: sha256(disk),
      stored: sha256(storedDisk),
      seed: sha256(join(home, 'instances/a/seed.iso')),
    };
    const cases: [string, RegExp][] = [
      [disk, /x\.qcow2: it is used by instance a[\s\S]*fix: /],
      [storedDisk, /is inside the image store/],
      [join(home, 'images', '..', 'images', 'foo', 'disk.qcow2'), /is inside the image store/],
      [join(dir, 'link.iso'), /is inside the image store/],
      [join(home, 'instances', 'a', 'seed.iso'), /is inside instance a's directory/],
      [join(home, 'instances', 'a', 'new.iso'), /is inside instance a's directory/],
    ];
    for (const [out, message] of cases) {
      for (const force of [[], ['--force']]) {
        const result = await q(['seed', ...force, out, ud]);
        t.equal(result.exitCode, 1, `${out} ${force}`);
        t.match(result.stderr, message, `${out} ${force}`);
      }
    }
    t.same(
      { disk: sha256(disk), stored: sha256(storedDisk), seed: sha256(join(home, 'instances/a/seed.iso')) },
      before,
      'nothing was replaced',
    );
    t.ok(lstatSync(join(dir, 'link.iso')).isSymbolicLink(), 'the symlink is still a symlink');
    t.notOk(existsSync(join(home, 'instances', 'a', 'new.iso')));
    const inspect = await q(['inspect', 'a', '--json']);
    t.equal(inspect.exitCode, 0, 'the instance is intact');
  },
);

t.test(
  'seed replaces only what it recognises as a seed; anything else is named, and --force is needed',
  async (t) => {
    const dir = t.testdir({
      'ud.yaml': USER_DATA,
      'notes.txt': 'my notes\n',
      'empty.iso': '',
      newdir: {},
    });
    const ud = join(dir, 'ud.yaml');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'y.qcow2'), '64M']);
    const mbr = Buffer.alloc(1024 * 1024);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    mbr.write('\xeb\x63\x90', 0, 'latin1');
    writeFileSync(join(dir, 'disk.raw'), mbr);
    mkdirSync(join(dir, 'tree'));
    writeFileSync(join(dir, 'tree', 'f'), 'x');
    await execa('xorriso', [
      '-as',
      'mkisofs',
      '-quiet',
      '-V',
      'OTHER',
      '-o',
      join(dir, 'other.iso'),
      join(dir, 'tree'),
    ]);
    const refused: [string, RegExp][] = [
      ['notes.txt', /notes\.txt: it is a text file, not a seed image[\s\S]*fix: .*--force/],
      ['y.qcow2', /y\.qcow2: it is a qcow2 image, not a seed image/],
      ['disk.raw', /disk\.raw: it is a raw disk image, not a seed image/],
      ['other.iso', /other\.iso: it is an ISO 9660 image without the cidata label/],
    ];
    for (const [name, message] of refused) {
      const before = sha256(join(dir, name));
      const result = await q0(['seed', join(dir, name), ud]);
      t.equal(result.exitCode, 1, name);
      t.match(result.stderr, message, name);
      t.equal(sha256(join(dir, name)), before, `${name} untouched`);
    }
    const forced = await q0(['seed', '--force', join(dir, 'notes.txt'), ud]);
    t.equal(forced.exitCode, 0, forced.stderr);
    t.match(await blkidOf(join(dir, 'notes.txt')), /LABEL=cidata/, '--force replaces it');

    // Seeds: ours (ISO and vfat), cloud-localds' own, an empty file; and one behind a symlink, which stays a link.
    t.equal((await q0(['seed', join(dir, 'ours.iso'), ud])).exitCode, 0);
    t.equal((await q0(['seed', '-f', 'vfat', join(dir, 'ours.img'), ud])).exitCode, 0);
    await execa('cloud-localds', [join(dir, 'theirs.iso'), ud]);
    await execa('cloud-localds', ['-f', 'vfat', join(dir, 'theirs.img'), ud]);
    symlinkSync(join(dir, 'ours.iso'), join(dir, 'seed-link.iso'));
    for (const name of ['ours.iso', 'ours.img', 'theirs.iso', 'theirs.img', 'empty.iso', 'seed-link.iso']) {
      const result = await q0(['seed', '--instance-id', `iid-${name}`, join(dir, name), ud]);
      t.equal(result.exitCode, 0, `${name}: ${result.stderr}`);
    }
    t.ok(lstatSync(join(dir, 'seed-link.iso')).isSymbolicLink(), 'a symlink to a seed stays a link');
    const { files } = await osirroxExtract(join(dir, 'ours.iso'), join(dir, 'x'));
    t.match(
      files.get('meta-data')?.toString(),
      /iid-seed-link\.iso/,
      'the seed behind the link was rewritten',
    );

    // Never a directory, a FIFO, a socket or a device, even with --force; a trailing slash names a directory.
    // Sockets' paths must be short.
    const short = shortTempDir(t);
    await execa('mkfifo', [join(short, 'fifo')]);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(short, 'sock'), resolve));
    t.teardown(() => server.close());
    const never: [string, RegExp][] = [
      [join(dir, 'newdir'), /newdir: it is a directory/],
      [join(short, 'fifo'), /fifo: it is a FIFO/],
      [join(short, 'sock'), /sock: it is a socket/],
      [`${join(dir, 'made')}/`, /ends with \/[\s\S]*fix: .*made\/cidata\.iso/],
      [`${join(dir, 'newdir')}/`, /ends with \//],
    ];
    if (process.getuid?.() === 0) {
      await execa('mknod', [join(dir, 'full'), 'c', '1', '7']);
      never.push([join(dir, 'full'), /full: it is a character device/]);
    }
    for (const [out, message] of never) {
      const result = await q0(['seed', '--force', out, ud]);
      t.equal(result.exitCode, 1, out);
      t.match(result.stderr, message, out);
    }
    t.ok(lstatSync(join(short, 'fifo')).isFIFO(), 'the FIFO is still a FIFO');
    t.ok(lstatSync(join(short, 'sock')).isSocket(), 'the socket is still a socket');
    if (process.getuid?.() === 0)
      t.ok(lstatSync(join(dir, 'full')).isCharacterDevice(), 'the device node is intact');
    t.notOk(existsSync(join(dir, 'made')), 'nothing named after the directory was written');
    t.same(readdirSync(join(dir, 'newdir')), []);
  },
);

t.test(
  '- is standard input only where a file is read: as OUTPUT the seed goes to stdout, as cloud-localds does',
  async (t) => {
    const dir = t.testdir({ 'ud.yaml': USER_DATA, 'net.yaml': NETWORK });
    const ud = join(dir, 'ud.yaml');
    // Before the fix, `seed - …` renamed the seed over /dev/stdin: should that come back, repair the host.
    t.teardown(() => {
      if (lstatSync('/dev/stdin').isFile()) {
        rmSync('/dev/stdin');
        symlinkSync('/proc/self/fd/0', '/dev/stdin');
      }
    });
    const toStdout = await execa(process.execPath, [cliPath, 'seed', '-', ud], {
      reject: false,
      encoding: 'buffer',
      env: { ...process.env, QLAUNCH_HOME: emptyHome },
    });
    t.equal(toStdout.exitCode, 0, Buffer.from(toStdout.stderr).toString());
    writeFileSync(join(dir, 'from-stdout.iso'), toStdout.stdout);
    t.match(await blkidOf(join(dir, 'from-stdout.iso')), /LABEL=cidata/, 'stdout carries the seed image');
    t.match(
      Buffer.from(toStdout.stderr).toString(),
      /^wrote standard output \(iso9660/,
      'the summary goes to stderr',
    );
    t.ok(lstatSync('/dev/stdin').isSymbolicLink(), '/dev/stdin was not replaced');

    // A reader that stops early is an error, not a crash; a terminal never gets the image.
    writeFileSync(join(dir, 'big.sh'), `#!/bin/sh\n${`# ${'x'.repeat(78)}\n`.repeat(20_000)}`);
    const cut = await execa(
      'bash',
      [
        '-c',
        `"$0" "$1" seed - "$2" | head -c 10 >/dev/null; exit "\${PIPESTATUS[0]}"`,
        process.execPath,
        cliPath,
        join(dir, 'big.sh'),
      ],
      { reject: false, env: { ...process.env, QLAUNCH_HOME: emptyHome } },
    );
    t.equal(cut.exitCode, 1);
    t.match(cut.stderr, /^qlaunch: Cannot write the seed image to standard output: write EPIPE/);
    const tty = await execa(
      'script',
      ['-qec', `"${process.execPath}" "${cliPath}" seed - "${ud}"`, '/dev/null'],
      {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: emptyHome },
      },
    );
    t.equal(tty.exitCode, 1);
    t.match(tty.stdout, /standard output is a terminal/);

    const json = await q0(['seed', '--json', '-', ud]);
    t.equal(json.exitCode, 2, 'the JSON summary and the image cannot share stdout');
    t.match(json.stderr, /--json/);

    const net = await q0(['seed', join(dir, 'a.iso'), ud, '-N', '-'], NETWORK);
    t.equal(net.exitCode, 0, net.stderr);
    const { files } = await osirroxExtract(join(dir, 'a.iso'), join(dir, 'a'));
    t.equal(files.get('network-config')?.toString(), NETWORK, 'network-config from stdin');
    const twice = await q0(['seed', join(dir, 'b.iso'), '-', '-'], USER_DATA);
    t.equal(twice.exitCode, 2, 'a usage error');
    t.match(twice.stderr, /read from standard input, which can be read once/);
    t.notOk(existsSync(join(dir, 'b.iso')));

    const name = await q0(['image', 'import', ud, '--name', '-']);
    t.match(name.stderr, /'-' is not a valid image name/, 'an option value - is kept as given');
    const unknown = await q0(['ls', '-']);
    t.match(unknown.stderr, /Unknown argument: -$/m);
  },
);

t.test(
  'user-data goes into the seed byte for byte: Latin-1 scripts and gzip, as cloud-init takes them',
  async (t) => {
    const latin1 = Buffer.concat([
      Buffer.from('#!/bin/sh\necho caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    const gzipped = gzipSync(Buffer.from(USER_DATA));
    const dir = t.testdir({ 'latin1.sh': latin1, 'ud.gz': gzipped });
    for (const filesystem of ['iso9660', 'vfat']) {
      for (const [name, bytes, kind] of [
        ['latin1.sh', latin1, 'script'],
        ['ud.gz', gzipped, 'cloud-config'],
      ] as const) {
        const out = join(dir, `${name}.${filesystem}`);
        const result = await q0(['seed', '--json', '-f', filesystem, out, join(dir, name)]);
        t.equal(result.exitCode, 0, result.stderr);
        t.equal(JSON.parse(result.stdout).userData, kind, `${name}: ${kind}`);
        const files =
          filesystem === 'vfat'
            ? (await mcopyExtract(out, join(dir, `${name}-${filesystem}`))).files
            : (await osirroxExtract(out, join(dir, `${name}-${filesystem}`))).files;
        t.same(files.get('user-data'), bytes, `${name} on ${filesystem}: the same bytes`);
      }
    }
    const fromStdin = await q0(['seed', join(dir, 'stdin.iso'), '-'], gzipped);
    t.equal(fromStdin.exitCode, 0, fromStdin.stderr);
    t.same((await osirroxExtract(join(dir, 'stdin.iso'), join(dir, 's'))).files.get('user-data'), gzipped);
  },
);

t.test(
  'endless or huge user-data fails with a clear error, and a big one costs a small multiple of its size',
  async (t) => {
    const dir = t.testdir({});
    const zero = await q0(['seed', join(dir, 'z.iso'), '/dev/zero']);
    t.equal(zero.exitCode, 1);
    t.match(zero.stderr, /user-data file \/dev\/zero is larger than \d+ MiB[\s\S]*fix: /);
    t.notMatch(zero.stderr, /RangeError|unexpected/);
    const fromStdin = await execa(process.execPath, [cliPath, 'seed', join(dir, 'z.iso'), '-'], {
      reject: false,
      inputFile: '/dev/zero',
      env: { ...process.env, QLAUNCH_HOME: emptyHome },
    });
    t.equal(fromStdin.exitCode, 1);
    t.match(fromStdin.stderr, /user-data from standard input is larger than \d+ MiB/);
    t.notOk(existsSync(join(dir, 'z.iso')));

    // 50 MB of cloud-config: its peak memory must stay a small multiple of its size.
    const line = `  - echo ${'y'.repeat(70)}\n`;
    writeFileSync(join(dir, 'big.yaml'), `#cloud-config\nruncmd:\n${line.repeat(640_000)}`);
    writeFileSync(
      join(dir, 'rss.mjs'),
      `const { main } = await import(${JSON.stringify(cliPath.replace(/bin\/qlaunch\.js$/, 'lib/cli/main.js'))});
process.exitCode = await main(process.argv.slice(2));
process.stderr.write(\`MAXRSS \${process.resourceUsage().maxRSS}\\n\`);\n`,
    );
    const big = await execa(
      process.execPath,
      [join(dir, 'rss.mjs'), 'seed', join(dir, 'big.iso'), join(dir, 'big.yaml')],
      {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: emptyHome },
      },
    );
    t.equal(big.exitCode, 0, big.stderr);
    const kib = Number(/MAXRSS (\d+)/.exec(big.stderr)?.[1]);
    t.ok(kib > 0 && kib < 300 * 1024, `peak memory ${Math.round(kib / 1024)} MiB for 51 MB of user-data`);
  },
);

t.test('a refused user-data is described, never quoted', async (t) => {
  const secret = 'root:$y$j9T$Zq5sEcReThAsH$abcdefghijklmnop:19700:0:99999:7:::\n';
  const dir = t.testdir({
    shadow: secret,
    'blob.bin': Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0xff, 0xfe]),
    'empty.yaml': '',
    'plain.yaml': 'hostname: x\n',
    'text.gz': gzipSync(Buffer.from('just some words\n')),
    'damaged.gz': gzipSync(Buffer.from(USER_DATA)).subarray(0, 12),
  });
  const cases: [string, RegExp][] = [
    [
      'shadow',
      /shadow is not user-data cloud-init understands: it is text whose first line is not a cloud-init header/,
    ],
    ['blob.bin', /blob\.bin is not user-data cloud-init understands: it is binary data/],
    ['empty.yaml', /empty\.yaml is not user-data cloud-init understands: it is empty/],
    [
      'plain.yaml',
      /plain\.yaml is not user-data cloud-init understands: it is YAML without the #cloud-config line/,
    ],
    [
      'text.gz',
      /text\.gz is not user-data cloud-init understands: it is gzip-compressed text whose first line/,
    ],
    [
      'damaged.gz',
      /damaged\.gz is not user-data cloud-init understands: it is gzip data that does not decompress/,
    ],
  ];
  for (const [name, message] of cases) {
    const result = await q0(['seed', join(dir, 'out.iso'), join(dir, name)]);
    t.equal(result.exitCode, 1, name);
    t.match(result.stderr, message, name);
    t.match(
      result.stderr,
      /fix: .*#cloud-config.*#!.*multipart MIME/,
      `${name}: the hint names the first lines`,
    );
  }
  const shadow = await q0(['seed', join(dir, 'out.iso'), join(dir, 'shadow')]);
  t.notMatch(shadow.stderr, /root|\$y\$|Zq5s|19700/, 'nothing of the file is echoed');
});

t.test(
  'run and create: an unreadable --user-data or a YAML alias bomb is a clear error with a fix',
  async (t) => {
    const dir = t.testdir({
      'bomb.yaml': `#cloud-config\na: &a [x, x, x, x, x, x, x, x, x]\n${Array.from(
        { length: 12 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(', ')}]`,
      ).join('\n')}\n`,
      sub: {},
    });
    const home = join(shortTempDir(t), 'home');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'x.qcow2'), '64M']);
    const env = { ...process.env, QLAUNCH_HOME: home, XDG_RUNTIME_DIR: dir };
    const cases: [string, RegExp][] = [
      [join(dir, 'sub'), /user-data file .*sub is a directory[\s\S]*fix: /],
      [join(dir, 'missing.yaml'), /user-data file .*missing\.yaml does not exist[\s\S]*fix: /],
      [join(dir, 'bomb.yaml'), /bomb\.yaml has too many YAML aliases[\s\S]*fix: /],
    ];
    for (const [userData, message] of cases) {
      for (const command of [
        ['run', join(dir, 'x.qcow2'), '--accel', 'tcg', '--user-data', userData, '--', 'true'],
        ['create', 'b', '--image', join(dir, 'x.qcow2'), '--accel', 'tcg', '--user-data', userData],
      ]) {
        const result = await execa(process.execPath, [cliPath, ...command], { reject: false, env });
        t.equal(result.exitCode, 1, `${command[0]} ${userData}`);
        t.match(result.stderr, message, `${command[0]} ${userData}`);
        t.notMatch(result.stderr, /unexpected error/, `${command[0]} ${userData}`);
      }
      const seeded = await q0(['seed', join(dir, 'out.iso'), userData]);
      t.match(seeded.stderr, message, `seed ${userData}`);
    }
    t.notOk(existsSync(join(home, 'instances', 'b')), 'no instance left half-made');
  },
);
