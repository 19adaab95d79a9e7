import { createHash } from 'node:crypto';
import { readdir, readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { buildDebianImage } from '../../lib/image/debian-build.js';
import { readDebianManifest } from '../../lib/image/debian-manifest.js';
import { chooseBuildMode, probeBuildHost } from '../../lib/image/debian-preflight.js';
import { deadPort } from '../fixtures/ports.js';

// First build: ~2 min of mmdebstrap; then a TCG boot of a real Debian, which is slow on a busy host.
t.setTimeout(900_000);

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Why this host cannot build images (no root and no usable user namespace, tools missing), or undefined. */
async function cannotBuild(): Promise<string | undefined> {
  try {
    chooseBuildMode(await probeBuildHost('x86_64'), 'x86_64');
    return undefined;
  } catch (error) {
    const e = error as { code?: string; message: string; hint?: string };
    return `${e.code}: ${e.message} (${e.hint})`;
  }
}

/** Processes whose root or cwd is inside `dir` (a build's leftovers would be apt, dpkg, mmdebstrap). */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    for (const link of ['root', 'cwd']) {
      const target = await readlink(`/proc/${pid}/${link}`).catch(() => '');
      if (target.startsWith(dir)) found.push(`${pid} (${link} ${target})`);
    }
  }
  return found;
}

const blocker = await cannotBuild();
const skipBuild = blocker ? `this host cannot build Debian images: ${blocker}` : false;

t.test('bad requests fail before any work, leaving nothing', async (t) => {
  const dir = t.testdir({ full: { file: 'x' } });
  await t.rejects(buildDebianImage({ arch: 'riscv64' as 'x86_64', outDir: join(dir, 'a') }), {
    code: 'SPEC_ARCH_UNSUPPORTED',
  });
  await t.rejects(buildDebianImage({ arch: 'x86_64', outDir: join(dir, 'b'), extraPackages: ['a b'] }), {
    code: 'IMAGE_BUILD_INVALID',
  });
  await t.rejects(buildDebianImage({ arch: 'x86_64', outDir: join(dir, 'full') }), {
    code: 'IMAGE_BUILD_INVALID',
    message: /already exists and is not empty/,
  });
  const controller = new AbortController();
  controller.abort();
  await t.rejects(buildDebianImage({ arch: 'x86_64', outDir: join(dir, 'c'), signal: controller.signal }), {
    code: blocker ? /^HOST_/ : 'IMAGE_BUILD_ABORTED',
  });
  t.same(await readdir(dir), ['full']);
});

t.test('a build that fails or is aborted leaves nothing behind', { skip: skipBuild }, async (t) => {
  await t.test('an unknown package fails mmdebstrap', async (t) => {
    const dir = t.testdir();
    const lines: string[] = [];
    await t.rejects(
      buildDebianImage({
        arch: 'x86_64',
        outDir: join(dir, 'img'),
        extraPackages: ['qlaunch-no-such-package'],
        onProgress: (line) => lines.push(line),
      }),
      { code: 'IMAGE_BUILD_FAILED', message: /^mmdebstrap \(the image root\) failed: .*exited with status/ },
    );
    t.match(lines[0], /^debian-12 x86_64: mmdebstrap bookworm \(root|unshare mode/);
    t.same(await readdir(dir), [], 'no staging directory, no output');
  });

  await t.test('aborting while packages install (mounts live) stops everything and cleans up', async (t) => {
    const dir = t.testdir();
    const controller = new AbortController();
    const started = Date.now();
    const lines: string[] = [];
    // Should mmdebstrap ever word its progress differently, abort anyway, later.
    const fallback = setTimeout(() => controller.abort(), 60_000);
    t.teardown(() => clearTimeout(fallback));
    await t.rejects(
      buildDebianImage({
        arch: 'x86_64',
        outDir: join(dir, 'img'),
        signal: controller.signal,
        onProgress: (line) => {
          lines.push(line);
          // By now mmdebstrap has mounted /proc, /sys and /dev in the root and dpkg runs in it.
          if (/^I: installing essential packages/.test(line)) controller.abort();
        },
      }),
      { code: 'IMAGE_BUILD_ABORTED' },
    );
    t.ok(controller.signal.aborted, `aborted after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    t.same(await readdir(dir), [], 'no staging directory, no output');
    t.same(await processesIn(dir), [], 'no build process left running in it');
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    t.notOk(mounts.includes(dir), 'nothing mounted below it');
  });
});

async function debugfs(raw: string, command: string): Promise<string> {
  const { stdout } = await execa('debugfs', ['-R', command, raw], {
    env: { PATH: `${process.env['PATH']}:/usr/sbin:/sbin` },
  });
  return stdout;
}

const provided = process.env['QLAUNCH_DEBIAN_X86_64'];

t.test(
  'the x86_64 image boots under TCG with a NoCloud seed: cloud-init finishes, SSH works',
  { skip: provided ? false : skipBuild },
  async (t) => {
    const dir = t.testdir();

    const buildStarted = Date.now();
    const manifestPath =
      provided ??
      (await execa(`${repo}scripts/guests/debian-cloud`, ['x86_64'], { stderr: 'inherit' })).stdout
        .trim()
        .split('\n')
        .at(-1) ??
      '';
    t.comment(`image ready in ${((Date.now() - buildStarted) / 1000).toFixed(1)} s: ${manifestPath}`);
    const image = await readDebianManifest(manifestPath);
    t.equal(image.arch, 'x86_64');
    t.equal(image.append, 'root=LABEL=rootfs console=ttyS0');
    for (const pkg of ['linux-image-amd64', 'cloud-init', 'openssh-server', 'qemu-guest-agent']) {
      t.match(image.packages[pkg], /^\S+$/, `${pkg} ${image.packages[pkg]}`);
    }

    await t.test('the image carries no host keys, machine id, root password or apt lists', async (t) => {
      const raw = join(dir, 'root.raw');
      await execa('qemu-img', ['convert', '-O', 'raw', image.image, raw]);
      t.notMatch(await debugfs(raw, 'ls /etc/ssh'), /ssh_host_/);
      t.equal((await debugfs(raw, 'cat /etc/machine-id')).trim(), '');
      t.equal((await debugfs(raw, 'cat /etc/hostname')).trim(), 'localhost');
      t.match(await debugfs(raw, 'cat /etc/fstab'), /^LABEL=rootfs \/ ext4 /m);
      t.match(await debugfs(raw, 'cat /etc/shadow'), /^root:!/m);
      t.notMatch(await debugfs(raw, 'ls /var/lib/apt/lists'), /_Packages/);
      // The build-only settings are gone: Debian's update-initramfs.conf, no unsafe-io or confold for dpkg.
      const status = await debugfs(raw, 'cat /var/lib/dpkg/status');
      const shipped = / \/etc\/initramfs-tools\/update-initramfs\.conf ([0-9a-f]{32})/.exec(status)?.[1];
      const conf = await debugfs(raw, 'cat /etc/initramfs-tools/update-initramfs.conf');
      t.match(conf, /^update_initramfs=yes$/m);
      t.equal(createHash('md5').update(`${conf}\n`).digest('hex'), shipped, "Debian's conffile, unmodified");
      t.notMatch(await debugfs(raw, 'ls /etc/initramfs-tools'), /dpkg-dist/);
      t.notMatch(await debugfs(raw, 'ls /etc/dpkg/dpkg.cfg.d'), /99mmdebstrap/);
      t.notMatch(await debugfs(raw, 'ls /etc/apt/apt.conf.d'), /99mmdebstrap/);
      t.match(
        await debugfs(raw, 'cat /etc/cloud/cloud.cfg.d/99_qlaunch.cfg'),
        /datasource_list: \[NoCloud, None\]/,
      );
      await writeFile(raw, '');
    });

    const key = join(dir, 'id_ed25519');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'qlaunch-test', '-f', key]);
    const publicKey = (await readFile(`${key}.pub`, 'utf8')).trim();
    await writeFile(join(dir, 'user-data'), `#cloud-config\nssh_authorized_keys:\n  - ${publicKey}\n`);
    await writeFile(
      join(dir, 'meta-data'),
      `instance-id: iid-qlaunch-${Date.now()}\nlocal-hostname: qlaunch-debian\n`,
    );
    await execa('cloud-localds', [join(dir, 'seed.img'), join(dir, 'user-data'), join(dir, 'meta-data')]);
    const overlay = join(dir, 'overlay.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'qcow2', overlay]);

    const port = await deadPort();
    const log = join(dir, 'serial.log');
    const blockdev = (node: string, format: string, filename: string, readOnly: boolean) =>
      JSON.stringify({
        driver: format,
        'node-name': node,
        'read-only': readOnly,
        file: { driver: 'file', filename },
      });
    const started = Date.now();
    const elapsed = () => (Date.now() - started) / 1000;
    const qemu = execa(
      'qemu-system-x86_64',
      [
        ['-machine', 'q35'],
        ['-accel', 'tcg,thread=multi'],
        ['-cpu', 'max', '-smp', '2', '-m', '1024', '-nodefaults', '-display', 'none'],
        ['-kernel', image.kernel, '-initrd', image.initrd, '-append', image.append],
        ['-blockdev', blockdev('root', 'qcow2', overlay, false), '-device', 'virtio-blk-pci,drive=root'],
        [
          '-blockdev',
          blockdev('seed', 'raw', join(dir, 'seed.img'), true),
          '-device',
          'virtio-blk-pci,drive=seed',
        ],
        [
          '-netdev',
          `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:22`,
          '-device',
          'virtio-net-pci,netdev=net0',
        ],
        ['-serial', `file:${log}`],
      ].flat(),
      { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', reject: false },
    );
    t.teardown(() => {
      qemu.kill('SIGKILL');
    });
    let exited = false;
    void qemu.then(() => {
      exited = true;
    });

    const ssh = (command: string[], timeoutSeconds = 10) =>
      execa(
        'ssh',
        [
          ...[
            '-i',
            key,
            '-o',
            'IdentitiesOnly=yes',
            '-o',
            'StrictHostKeyChecking=no',
            '-o',
            'UserKnownHostsFile=/dev/null',
          ],
          ...[
            '-o',
            'BatchMode=yes',
            '-o',
            `ConnectTimeout=${timeoutSeconds}`,
            '-o',
            'LogLevel=ERROR',
            '-p',
            String(port),
          ],
          'debian@127.0.0.1',
          ...command,
        ],
        { reject: false, timeout: 600_000 },
      );

    let sshUp: number | undefined;
    while (elapsed() < 600 && !exited) {
      if ((await ssh(['true'], 5)).exitCode === 0) {
        sshUp = elapsed();
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const consoleText = () => readFile(log, 'utf8').catch(() => '');
    if (sshUp === undefined) {
      t.fail(
        `no SSH after ${elapsed().toFixed(0)} s (QEMU ${exited ? 'exited' : 'running'}); console tail:\n${(await consoleText()).slice(-3000)}`,
      );
      return;
    }
    t.pass(`SSH as debian with the seed's key after ${sshUp.toFixed(1)} s`);

    const status = await ssh(['cloud-init', 'status', '--wait']);
    t.match(status.stdout, /status: done/, `cloud-init done after ${elapsed().toFixed(1)} s`);
    t.match(await consoleText(), /Cloud-init v\. \S+ finished at/, 'the console shows cloud-init finishing');

    const facts = await ssh([
      'hostname; sudo passwd -S root; cat /etc/machine-id; systemctl --failed --no-legend --plain',
    ]);
    const [hostname, rootStatus, machineId, ...failed] = facts.stdout.split('\n');
    t.equal(hostname, 'qlaunch-debian', 'cloud-init set the hostname from the seed');
    t.match(rootStatus, /^root L /, 'root stays locked');
    t.match(machineId, /^[0-9a-f]{32}$/, 'a machine id of its own, made at first boot');
    t.same(failed.filter(Boolean), [], 'no failed units');
  },
);
