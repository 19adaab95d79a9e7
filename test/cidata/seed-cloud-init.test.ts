// The proof that matters: a real Debian guest's cloud-init reads qlaunch-written ISO and vfat seeds.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import t from 'tap';
import { buildCloudConfig, buildMetaData } from '../../lib/cidata/cloud-config.js';
import { type SeedFilesystem, writeSeedImage } from '../../lib/cidata/seed.js';
import { loadSeedInputs } from '../../lib/cidata/seed-inputs.js';
import { launch } from '../../lib/guest/launch.js';
import { debianImage, shortTempDir } from '../fixtures/guests.js';

// Two Debian boots under TCG: each may take minutes when other guest tests share the two cores.
t.setTimeout(1_500_000);

/** Run a command over SSH, retrying while sshd is not up yet. */
async function sshUntilReady(port: number, key: string, user: string, command: string, deadline: number) {
  for (;;) {
    const result = await execa(
      'ssh',
      [
        '-i',
        key,
        '-p',
        String(port),
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'ConnectTimeout=5',
        '-o',
        'BatchMode=yes',
        '-o',
        'LogLevel=ERROR',
        `${user}@127.0.0.1`,
        command,
      ],
      { reject: false, stdin: 'ignore' },
    );
    if (result.exitCode !== 255 || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// Two boots prove three things: each seed filesystem, and (on vfat) user-data gzip-compressed, read by the reader
// `qlaunch seed` uses, reaching cloud-init byte for byte (before, it read UTF-8: gzip was refused, and mangled had
// it passed).
for (const filesystem of ['iso9660', 'vfat'] as SeedFilesystem[]) {
  const gzipped = filesystem === 'vfat';
  t.test(
    `cloud-init reads a qlaunch ${filesystem} seed${gzipped ? ' (gzip user-data, exact bytes)' : ''}: status done, hostname, write_files, runcmd`,
    async (t) => {
      const image = await debianImage('x86_64');
      const dir = shortTempDir(t);
      const key = join(dir, 'key');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qlaunch-test', '-f', key]);
      const overlay = join(dir, 'overlay.qcow2');
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'qcow2', overlay]);
      const seed = join(dir, `seed.${filesystem === 'vfat' ? 'img' : 'iso'}`);
      const hostname = `seeded-${filesystem}`;
      // cloud-init keeps the raw user-data it read as user-data.txt: runcmd reports its hash.
      const userData = buildCloudConfig({
        writeFiles: [{ path: '/etc/qlaunch-proof', content: `written from a ${filesystem} seed\n` }],
        runcmd: [
          `echo QLAUNCH-RUNCMD-${filesystem} $(sha256sum < /var/lib/cloud/instance/user-data.txt | cut -d" " -f1) > /dev/console`,
        ],
      });
      const userDataBytes = gzipped ? gzipSync(userData) : Buffer.from(userData);
      writeFileSync(join(dir, 'user-data'), userDataBytes);
      const loaded = await loadSeedInputs({ userData: join(dir, 'user-data') });
      t.equal(loaded.userDataKind, 'cloud-config');
      await writeSeedImage(seed, {
        filesystem,
        files: {
          ...loaded.files,
          'meta-data': buildMetaData({ hostname, publicKeys: [readFileSync(`${key}.pub`, 'utf8').trim()] }),
        },
      });
      await using vm = await launch({
        kernel: image.kernel,
        initrd: image.initrd,
        append: image.append,
        disks: [overlay, { path: seed, format: 'raw', readOnly: true }],
        cpus: 2,
        memory: '1G',
        accel: 'tcg',
      });
      const forward = await vm.forwardPort(22);
      t.equal(forward.hostAddress, '127.0.0.1');
      const ran = await vm.waitForSerial(new RegExp(`QLAUNCH-RUNCMD-${filesystem} ([0-9a-f]{64})`), {
        timeout: 600_000,
      });
      t.equal(
        ran.groups[0],
        createHash('sha256').update(userDataBytes).digest('hex'),
        'the guest read the same bytes the user gave',
      );
      const result = await sshUntilReady(
        forward.hostPort,
        key,
        image.defaultUser,
        'cloud-init status --wait >/dev/null; cloud-init status; hostname; cat /etc/qlaunch-proof',
        Date.now() + 120_000,
      );
      t.equal(result.exitCode, 0, result.stderr);
      t.same(result.stdout.split('\n'), ['status: done', hostname, `written from a ${filesystem} seed`]);
      const exit = await vm.stop({ timeout: 60_000 });
      t.equal(exit.how, 'guest-shutdown', 'the guest powered off on the ACPI request');
    },
  );
}
