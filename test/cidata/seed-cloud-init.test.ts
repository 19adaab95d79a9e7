// The proof that matters: a real Debian guest's cloud-init reads qlaunch-written ISO and vfat seeds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { buildCloudConfig, buildMetaData } from '../../lib/cidata/cloud-config.js';
import { type SeedFilesystem, writeSeedImage } from '../../lib/cidata/seed.js';
import { launch } from '../../lib/guest/launch.js';
import { debianImage, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(900_000);

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

for (const filesystem of ['iso9660', 'vfat'] as SeedFilesystem[]) {
  t.test(
    `cloud-init reads a qlaunch ${filesystem} seed: status done, hostname, write_files, runcmd`,
    async (t) => {
      const image = await debianImage('x86_64');
      const dir = shortTempDir(t);
      const key = join(dir, 'key');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qlaunch-test', '-f', key]);
      const overlay = join(dir, 'overlay.qcow2');
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'qcow2', overlay]);
      const seed = join(dir, `seed.${filesystem === 'vfat' ? 'img' : 'iso'}`);
      const hostname = `seeded-${filesystem}`;
      await writeSeedImage(seed, {
        filesystem,
        files: {
          'meta-data': buildMetaData({ hostname, publicKeys: [readFileSync(`${key}.pub`, 'utf8').trim()] }),
          'user-data': buildCloudConfig({
            writeFiles: [{ path: '/etc/qlaunch-proof', content: `written from a ${filesystem} seed\n` }],
            runcmd: [`echo QLAUNCH-RUNCMD-${filesystem} > /dev/console`],
          }),
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
      await vm.waitForSerial(`QLAUNCH-RUNCMD-${filesystem}`, { timeout: 300_000 });
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
