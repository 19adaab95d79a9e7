// The initramfs from a real modules tree (the tests' Debian kernel's), with its modules stored compressed in each
// way a distribution ships them: every module the guest needs is in it, inflated, in an order that loads.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import t from 'tap';
import { buildInitramfs } from '../../lib/initramfs/build.js';
import { modinfoDepends } from '../../lib/initramfs/modules.js';
import { rootfsGuest } from '../fixtures/guests.js';

t.setTimeout(600_000);

/** A copy of `tree`'s modules.order/builtin and the modules listed, stored `.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz` in turn. */
function compressedCopy(tree: string, dir: string): void {
  const order = readFileSync(join(tree, 'modules.order'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(dir, 'modules.order'), `${order.join('\n')}\n`);
  copyFileSync(join(tree, 'modules.builtin'), join(dir, 'modules.builtin'));
  const wanted = /\/(9p\w*|netfs|fscache|overlay|virtio\w*|net_failover|failover)\.ko$/;
  for (const [i, path] of order.filter((p) => wanted.test(p)).entries()) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    const kind = ['', 'xz', 'zst', 'gz'][i % 4];
    const bytes = readFileSync(join(tree, path));
    if (kind === '') writeFileSync(target, bytes);
    else if (kind === 'gz') writeFileSync(`${target}.gz`, gzipSync(bytes));
    else
      writeFileSync(
        `${target}.${kind}`,
        execFileSync(kind === 'xz' ? 'xz' : 'zstd', ['-c'], { input: bytes }),
      );
  }
}

t.test('modules stored plain, xz, zstd and gzip all go in inflated, dependencies first', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const tree = rootfs.modulesDir ?? '';
  const dir = mkdtempSync(join(tmpdir(), 'qlinit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'modules'));
  compressedCopy(tree, join(dir, 'modules'));
  const built = await buildInitramfs({
    kernel: rootfs.kernel,
    arch: 'x86_64',
    rootfs: '/',
    modulesDir: join(dir, 'modules'),
    root: { tag: 'm0', transport: '9p' },
    mounts: [],
    network: true,
    command: ['true'],
  });
  t.equal(built.release, rootfs.release);
  t.equal(built.busybox, '/usr/bin/busybox');
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  await execa('cpio', ['-id', '--quiet', '-D', unpacked, '--nonmatching', 'dev/console'], {
    input: built.cpio,
  });
  const init = readFileSync(join(unpacked, 'init'), 'utf8');
  const loaded = [...init.matchAll(/^insmod \/lib\/modules\/(\S+)\.ko /gm)].map((m) => m[1] ?? '');
  for (const name of [
    '9pnet',
    '9pnet_virtio',
    '9p',
    'overlay',
    'virtio_pci',
    'virtio_console',
    'virtio_net',
  ]) {
    t.ok(loaded.includes(name), `${name} is loaded`);
  }
  for (const [i, name] of loaded.entries()) {
    const bytes = readFileSync(join(unpacked, 'lib/modules', `${name}.ko`));
    const original = readFileSync(
      join(
        tree,
        readFileSync(join(tree, 'modules.order'), 'utf8')
          .split('\n')
          .find((p) => p.endsWith(`/${name}.ko`)) ?? '',
      ),
    );
    t.ok(bytes.equals(original), `${name} inflated to its own bytes`);
    for (const dep of modinfoDepends(bytes)) {
      if (loaded.includes(dep)) t.ok(loaded.indexOf(dep) < i, `${dep} loads before ${name}`);
    }
  }
  t.same(readFileSync(join(unpacked, 'bin/busybox')), readFileSync('/usr/bin/busybox'));
});

t.test('no static busybox for the arch: refused naming the package', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const dir = mkdtempSync(join(tmpdir(), 'qlinit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await t.rejects(
    buildInitramfs({
      kernel: rootfs.kernel,
      arch: 'aarch64',
      rootfs: dir,
      modulesDir: rootfs.modulesDir,
      root: { tag: 'm0', transport: '9p' },
      mounts: [],
      network: false,
      command: ['true'],
    }),
    {
      code: 'HOST_TOOL_MISSING',
      message: `no static busybox for aarch64 in ${dir} or on the host: the guest's first program is one`,
      hint: /apt-get install busybox-static:arm64\), or into the tree \(mmdebstrap --include=busybox-static\)/,
    },
  );
});
