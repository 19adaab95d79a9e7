import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { parse } from 'yaml';
import { osirroxExtract } from '../cidata/readers.js';
import { cliPath } from '../fixtures/guests.js';

t.setTimeout(60_000);

const qlaunch = (args: string[], input?: string) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, ...(input === undefined ? {} : { input }) });

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
