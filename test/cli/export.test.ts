// `qlaunch export` from the command line: --out written whole, what did not carry over on stderr and in --json,
// an instance's own record and key, and bad input with the README's exit codes (1 for a qlaunch error, 2 for usage).

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { cliPath } from '../fixtures/guests.js';

t.setTimeout(120_000);

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF4aZC7Wg4JmS0Zr5a5eWQ9nT4o3bqPj4eD1rB6m1hVJ qlaunch-dev';
const golden = (name: string) => readFileSync(new URL(`../export/golden/${name}`, import.meta.url), 'utf8');

// A private home holding one instance, dev, made from the debian-12 template with its own vCPUs and key.
const record = (name: string, source: string) =>
  JSON.stringify({
    schema: 1,
    name,
    format: 'qcow2',
    disk: 'disk.qcow2',
    virtualSize: 1073741824,
    size: 1000,
    checksum: `sha256:${'c'.repeat(64)}`,
    origin: 'pull',
    source,
    added: '2026-01-01T00:00:00.000Z',
    arch: 'x86_64',
  });
const home = t.testdir({
  // Two pulled images: one whose URL was recorded whole, one whose query (a token) image.json hides.
  images: {
    pulled: { 'image.json': record('pulled', 'https://images.example/pulled.qcow2'), 'disk.qcow2': '' },
    signed: {
      'image.json': record('signed', 'https://images.example/signed.qcow2?token=***'),
      'disk.qcow2': '',
    },
  },
  instances: {
    dev: {
      'instance.json': JSON.stringify({
        schema: 1,
        name: 'dev',
        created: '2026-01-01T00:00:00.000Z',
        source: 'debian-12',
        arch: 'x86_64',
        cpus: 4,
        memoryMiB: 2048,
        accel: 'auto',
        machineType: { name: 'pc-q35-7.2', qemuVersion: '7.2.0' },
        disk: true,
        seed: true,
        ports: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 }],
        networks: [{ name: 'lab', mac: '52:54:00:00:00:01' }],
        mac: '52:54:00:12:34:56',
        readiness: 'cloud-init',
      }),
      id_ed25519: 'PRIVATE KEY MATERIAL THAT MUST NEVER BE EXPORTED',
      'id_ed25519.pub': `${KEY}\n`,
    },
  },
});
const qlaunch = (args: string[], cwd?: string) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, QLAUNCH_HOME: home },
    ...(cwd && { cwd }),
  });

const notCarried = (stderr: string) =>
  stderr.split('\n').filter((l) => l.startsWith('qlaunch: not carried over: '));

t.test('--out writes the manifest whole and lists what did not carry over on stderr', async (t) => {
  const dir = t.testdir({});
  const out = join(dir, 'debian-12.yaml');
  const r = await qlaunch(['export', 'debian-12', '--arch', 'x86_64', '--to', 'kubevirt', '--out', out]);
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(r.stdout, '', 'nothing on stdout');
  t.equal(
    readFileSync(out, 'utf8'),
    golden('debian-12.kubevirt.yaml'),
    'the same manifest as the library makes',
  );
  t.same(readdirSync(dir), ['debian-12.yaml'], 'no temporary file left beside it');
  t.equal(statSync(out).mode & 0o777, 0o600);
  const lines = notCarried(r.stderr);
  t.ok(
    lines.some((l) => /image checksum \(checksumUrl\): CDI/.test(l)),
    'the unverified digest is listed',
  );
  t.ok(
    lines.some((l) => /vendor-data/.test(l)),
    'so is vendor-data',
  );
});

t.test('--json carries the manifest and the same list', async (t) => {
  const r = await qlaunch(['export', 'debian-12', '--arch', 'x86_64', '--to', 'kubevirt', '--json']);
  t.equal(r.exitCode, 0, r.stderr);
  const json = JSON.parse(r.stdout) as {
    manifest: string;
    notCarriedOver: { what: string; reason: string }[];
  };
  t.equal(json.manifest, golden('debian-12.kubevirt.yaml'));
  t.equal(json.notCarriedOver.length, notCarried(r.stderr).length, 'one entry per stderr line');
  t.ok(json.notCarriedOver.every((d) => d.what && d.reason));
});

t.test('nomad: the job on stdout and the seed image written for --seed-url', async (t) => {
  const dir = t.testdir({});
  const r = await qlaunch(
    [
      'export',
      'debian-12',
      '--arch',
      'x86_64',
      '--to',
      'nomad',
      '--seed-out',
      'seed.iso',
      '--seed-url',
      'https://files.example/debian-12-seed.iso',
    ],
    dir,
  );
  t.equal(r.exitCode, 0, r.stderr);
  t.equal(`${r.stdout}\n`, golden('debian-12.nomad.json'));
  const seed = readFileSync(join(dir, 'seed.iso'));
  t.equal(seed.subarray(0x8001, 0x8006).toString('latin1'), 'CD001', 'an ISO 9660 image');
  t.ok(seed.includes('cidata'), 'labelled cidata, as NoCloud looks for');
  t.ok(seed.includes('local-hostname: debian-12\n'), 'meta-data as qlaunch writes it');
  t.ok(seed.includes('qlaunch-ssh-host-keys'), "with qlaunch's vendor-data");
});

t.test('an instance exports its own record and public key, never its private key', async (t) => {
  const r = await qlaunch(['export', 'dev', '--to', 'kubevirt']);
  t.equal(r.exitCode, 0, r.stderr);
  t.notMatch(r.stdout, /PRIVATE KEY MATERIAL/);
  const [vm, service, secret] = parseAllDocuments(r.stdout).map((d) => d.toJS());
  t.equal(vm.spec.template.spec.domain.cpu.cores, 4, 'its vCPUs, not the template’s');
  t.equal(vm.spec.template.spec.domain.memory.guest, '2048Mi');
  t.equal(vm.spec.template.spec.domain.machine.type, 'pc-q35-7.2', 'its pinned machine type');
  t.same(service.spec.ports, [{ name: 'tcp-2222-22', protocol: 'TCP', port: 2222, targetPort: 22 }]);
  t.same(secret.stringData, { key: KEY });
  const lines = notCarried(r.stderr);
  t.ok(
    lines.some((l) => /private network lab/.test(l)),
    'its private network is listed',
  );
  t.ok(
    lines.some((l) => /instance dev's disk as it is now/.test(l)),
    'so is its disk',
  );
});

t.test(
  'a pulled image is fetched from the URL it was pulled from, unless that URL was recorded hidden',
  async (t) => {
    const r = await qlaunch([
      'export',
      'pulled',
      '--to',
      'nomad',
      '--seed-url',
      'https://files.example/s.iso',
    ]);
    t.equal(r.exitCode, 0, r.stderr);
    const disk = JSON.parse(r.stdout).Job.TaskGroups[0].Tasks[0].Artifacts[0];
    t.same(disk.GetterSource, 'https://images.example/pulled.qcow2');
    t.same(
      disk.GetterOptions,
      { checksum: `sha256:${'c'.repeat(64)}` },
      'verified against the digest it was pulled with',
    );
    const hidden = await qlaunch(['export', 'signed', '--to', 'kubevirt']);
    t.equal(hidden.exitCode, 1);
    t.match(hidden.stderr, /stored image on this host: a cluster cannot fetch it\n {2}fix: give --image-url/);
  },
);

t.test('bad input: exit codes as the README says', async (t) => {
  const unknown = await qlaunch(['export', 'no-such-vm', '--to', 'kubevirt']);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.stderr, /no instance, template or stored image is named no-such-vm\n {2}fix: /);
  const target = await qlaunch(['export', 'debian-12', '--to', 'k8s']);
  t.equal(target.exitCode, 2, 'an unknown --to is a usage error');
  t.match(target.stderr, /Choices: "kubevirt", "nomad"/);
  const arch = await qlaunch(['export', 'dev', '--arch', 'aarch64', '--to', 'kubevirt']);
  t.equal(arch.exitCode, 2, 'an instance is exported as what it is');
  t.match(arch.stderr, /instance dev is x86_64, not aarch64/);
  const missing = await qlaunch(['export', '--machine', join(home, 'missing.yaml'), '--to', 'kubevirt']);
  t.equal(missing.exitCode, 1);
  t.match(missing.stderr, /machine file .*missing\.yaml does not exist/);
  const seedless = await qlaunch(['export', 'debian-12', '--to', 'nomad']);
  t.equal(seedless.exitCode, 2, 'nomad without --seed-url is a usage error');
  t.match(seedless.stderr, /--seed-url/);
  const notUrl = await qlaunch(['export', 'debian-12', '--to', 'kubevirt', '--image-url', 'debian.qcow2']);
  t.equal(notUrl.exitCode, 2);
  t.match(notUrl.stderr, /--image-url 'debian\.qcow2' is not an http\(s\):\/\/ or docker:\/\/ URL/);
  const privateKey = await qlaunch([
    'export',
    'debian-12',
    '--to',
    'kubevirt',
    '--ssh-key',
    join(home, 'instances', 'dev', 'id_ed25519'),
  ]);
  t.equal(privateKey.exitCode, 1, 'a private key is refused');
  t.match(privateKey.stderr, /is not one SSH public key line/);
  t.notMatch(privateKey.stderr + privateKey.stdout, /PRIVATE KEY MATERIAL/, 'and never echoed');
  const both = await qlaunch(['export', 'debian-12', '--machine', 'x.yaml', '--to', 'kubevirt']);
  t.equal(both.exitCode, 2);
});

t.test('a failed --out leaves nothing behind', async (t) => {
  const dir = t.testdir({});
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'file'), 'x');
  const r = await qlaunch([
    'export',
    'debian-12',
    '--arch',
    'x86_64',
    '--to',
    'kubevirt',
    '--out',
    join(dir, 'file', 'x.yaml'),
  ]);
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /Cannot write manifest/);
  t.same(readdirSync(dir).sort(), ['file', 'sub']);
  t.equal(readFileSync(join(dir, 'file'), 'utf8'), 'x');
});
