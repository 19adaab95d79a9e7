// A kernel booted on a host directory as its root: the tests' Debian kernel on the host's own / (9p) and on a tree
// of its own (virtiofs), one command run with its exit status passed back; writes stay in the guest; what cannot
// work is refused before anything boots.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { processesMentioning, rootfsGuest, sharedTempDir, shortTempDir, useEnv } from '../fixtures/guests.js';

t.setTimeout(900_000);

t.test("the tests' kernel on the host's own / runs a command and passes back its exit status", async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const runtime = shortTempDir(t);
  useEnv(t, { XDG_RUNTIME_DIR: runtime });
  const share = sharedTempDir(t);
  writeFileSync(join(share, 'in.txt'), 'from the host\n');
  chmodSync(share, 0o777);
  const probe = `/etc/qlaunch-rootfs-probe-${process.pid}`;
  const script = [
    'uname -r',
    'cat /etc/debian_version',
    'cat /proc/1/comm',
    // The root's own programs run, not busybox's applets of the same name.
    'readlink /proc/$$/exe',
    'awk \'$2 == "/" { print $3 }\' /proc/mounts',
    `echo written > ${probe} && cat ${probe}`,
    'cat /mnt/share/in.txt',
    'echo from the guest > /mnt/share/out.txt',
    'ls /sys/class/net | grep -qx eth0 && echo eth0',
    'exit 7',
  ].join('; ');
  const progress: string[] = [];
  const guest = await launch(
    {
      kernel: rootfs.kernel,
      rootfs: rootfs.rootfs,
      modulesDir: rootfs.modulesDir,
      mounts: [`${share}:/mnt/share:rw,type=9p`],
      command: ['sh', '-c', script],
      memory: '512M',
      accel: 'tcg',
    },
    { onProgress: (line) => progress.push(line) },
  );
  const exit = await guest.exited;
  t.equal(exit.commandExitCode, 7, "the command's exit status");
  t.equal(exit.how, 'guest-shutdown', 'the guest powered off after it');
  t.same(guest.console.text().split('\n'), [
    rootfs.release,
    readFileSync('/etc/debian_version', 'utf8').trim(),
    'init',
    realpathSync('/bin/sh'),
    'overlay',
    'written',
    'from the host',
    'eth0',
    '',
  ]);
  t.match(progress.join('\n'), /rootfs \/ over 9p, kernel \S+ with modules from /);
  t.notOk(existsSync(probe), "the guest's write to / stayed in its tmpfs");
  t.equal(readFileSync(join(share, 'out.txt'), 'utf8'), 'from the guest\n', 'a rw mount writes through');
  t.same(processesMentioning(runtime), [], 'nothing left running');
});

t.test('a tree of its own boots over virtiofs', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  useEnv(t, { XDG_RUNTIME_DIR: shortTempDir(t) });
  const tree = sharedTempDir(t);
  for (const dir of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'root']) mkdirSync(join(tree, dir));
  copyFileSync('/usr/bin/busybox', join(tree, 'bin/busybox'));
  chmodSync(join(tree, 'bin/busybox'), 0o755);
  symlinkSync('busybox', join(tree, 'bin/sh'));
  symlinkSync('busybox', join(tree, 'bin/cat'));
  writeFileSync(join(tree, 'etc/marker'), 'a tree of its own\n');
  const guest = await launch({
    kernel: rootfs.kernel,
    rootfs: { path: tree, type: 'virtiofs' },
    modulesDir: rootfs.modulesDir,
    command: ['sh', '-c', 'cat /etc/marker; grep -c " / overlay " /proc/mounts; exit 0'],
    memory: '512M',
    accel: 'tcg',
  });
  const exit = await guest.exited;
  t.equal(exit.commandExitCode, 0);
  t.equal(guest.console.text(), 'a tree of its own\n1\n');
});

t.test(
  'an aarch64 kernel on an arm64 Debian tree made by mmdebstrap, its modules found in the tree',
  async (t) => {
    const rootfs = await rootfsGuest('aarch64');
    useEnv(t, { XDG_RUNTIME_DIR: shortTempDir(t) });
    const progress: string[] = [];
    const guest = await launch(
      {
        arch: 'aarch64',
        kernel: rootfs.kernel,
        rootfs: rootfs.rootfs,
        // The tree sits in the test cache (0700): QEMU keeps root to read it over 9p.
        runAsRoot: true,
        command: [
          'sh',
          '-c',
          'uname -m; uname -r; dpkg --print-architecture; cat /etc/debian_version; echo "$HOME"; touch /root/x && echo home; exit 5',
        ],
        memory: '512M',
        accel: 'tcg',
      },
      { onProgress: (line) => progress.push(line) },
    );
    const exit = await guest.exited;
    t.equal(exit.commandExitCode, 5);
    t.same(guest.console.text().split('\n'), [
      'aarch64',
      rootfs.release,
      'arm64',
      readFileSync(join(rootfs.rootfs, 'etc/debian_version'), 'utf8').trim(),
      '/root',
      'home',
      '',
    ]);
    t.match(progress.join('\n'), `with modules from ${join(rootfs.rootfs, 'lib/modules', rootfs.release)}`);
  },
);

t.test('a guest that panics ends, with no status to report, and does not run again', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  useEnv(t, { XDG_RUNTIME_DIR: shortTempDir(t) });
  // No /init where the kernel is told to look: it panics ("No working init found").
  const guest = await launch({
    kernel: rootfs.kernel,
    rootfs: '/',
    modulesDir: rootfs.modulesDir,
    append: 'rdinit=/nonexistent',
    command: ['true'],
    memory: '512M',
    accel: 'tcg',
  });
  const exit = await guest.exited;
  t.equal(exit.commandExitCode, undefined);
  t.match(guest.console.text(), /Kernel panic/);
  t.equal(guest.console.text().match(/Kernel panic/g)?.length, 1, 'one boot, not a reboot loop');
});

t.test('what cannot boot is refused before anything starts', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const runtime = shortTempDir(t);
  useEnv(t, { XDG_RUNTIME_DIR: runtime });
  const base = { kernel: rootfs.kernel, modulesDir: rootfs.modulesDir, accel: 'tcg' };
  await t.rejects(launch({ ...base, rootfs: '/' }), {
    code: 'SPEC_INVALID',
    message: 'a rootfs guest needs a command: a non-empty array of strings',
  });
  await t.rejects(launch({ ...base, rootfs: '/nonexistent-root', command: ['true'] }), {
    code: 'SPEC_FILE_MISSING',
    message: 'root directory /nonexistent-root does not exist',
  });
  await t.rejects(launch({ ...base, rootfs: '/etc/hostname', command: ['true'] }), {
    code: 'SPEC_INVALID',
    message: 'root /etc/hostname is not a directory',
  });
  await t.rejects(launch({ ...base, rootfs: '/:type=virtiofs', command: ['true'] }), {
    code: 'SPEC_INVALID',
    hint: /--rootfs \/ \(9p\)/,
  });
  await t.rejects(launch({ ...base, rootfs: '/', initrd: rootfs.kernel, command: ['true'] }), {
    code: 'SPEC_INVALID',
    message: /rootfs and initrd do not go together/,
  });
  await t.rejects(launch({ kernel: rootfs.kernel, command: ['true'] }), {
    code: 'SPEC_INVALID',
    message: 'command is for a rootfs guest',
  });
  await t.rejects(launch({ image: 'debian-12-local', rootfs: '/', command: ['true'] }), {
    code: 'SPEC_INVALID',
    message: 'rootfs, command mean nothing for a cloud image guest',
  });
  // The host's / has no modules for this kernel: the fix is named.
  await t.rejects(launch({ kernel: rootfs.kernel, rootfs: '/', command: ['true'], accel: 'tcg' }), {
    code: 'ROOTFS_UNSUPPORTED',
    message: `kernel ${rootfs.kernel} is ${rootfs.release}, and / has no modules for it (lib/modules/${rootfs.release})`,
    hint: /--modules DIR/,
  });
  const empty = sharedTempDir(t);
  await t.rejects(launch({ ...base, modulesDir: empty, rootfs: '/', command: ['true'] }), {
    code: 'ROOTFS_UNSUPPORTED',
    message: `${empty} is not a kernel modules tree (it has no modules.order)`,
  });
  // A modules tree without 9p or overlay: the kernel cannot mount its root.
  writeFileSync(join(empty, 'modules.order'), 'kernel/drivers/misc/unrelated.ko\n');
  await t.rejects(launch({ ...base, modulesDir: empty, rootfs: '/', command: ['true'] }), {
    code: 'ROOTFS_UNSUPPORTED',
    message: /has no 9pnet_virtio, 9p, overlay: neither built in nor a module in/,
  });
  // A module the tree lists but does not hold.
  writeFileSync(join(empty, 'modules.order'), 'kernel/fs/overlayfs/overlay.ko\n');
  await t.rejects(launch({ ...base, modulesDir: empty, rootfs: '/', command: ['true'] }), {
    code: 'ROOTFS_UNSUPPORTED',
    message: `kernel module kernel/fs/overlayfs/overlay.ko is listed in ${join(empty, 'modules.order')} but not there`,
  });
  t.same(processesMentioning(runtime), [], 'nothing was started');
});
