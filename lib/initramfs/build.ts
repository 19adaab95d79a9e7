// The initramfs of a rootfs guest, from the host (the I/O shell around the pure pieces): the kernel's release read
// from its image, its modules found in its own modules tree, a static busybox for the guest's arch, the /init.

import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { buildCpio, type CpioEntry } from './cpio.js';
import { elfFacts } from './elf.js';
import { type InitPlan, initScript } from './init-script.js';
import { kernelRelease } from './kernel-version.js';
import { builtinModules, loadOrder, modinfoDepends, moduleIndex } from './modules.js';

export interface InitramfsInput extends Omit<InitPlan, 'modules'> {
  kernel: string;
  arch: Arch;
  /** The tree booted as root: where the modules tree and busybox are looked for first. */
  rootfs: string;
  /** The kernel's modules tree (`…/lib/modules/RELEASE`); default: the one in `rootfs` for the kernel's release. */
  modulesDir?: string | undefined;
}

export interface Initramfs {
  cpio: Buffer;
  /** The kernel's release, when its image says. */
  release: string | undefined;
  modulesDir: string;
  busybox: string;
}

const unsupported = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.ROOTFS_UNSUPPORTED, message, { hint });

const readText = (path: string) => readFile(path, 'utf8').catch(() => undefined);

async function findModulesDir(input: InitramfsInput, release: string | undefined): Promise<string> {
  const given = input.modulesDir;
  const candidates =
    given !== undefined
      ? [given]
      : release === undefined
        ? []
        : [join(input.rootfs, 'lib/modules', release), join(input.rootfs, 'usr/lib/modules', release)];
  for (const dir of candidates) {
    if ((await readText(join(dir, 'modules.order'))) !== undefined) return dir;
  }
  if (given !== undefined) {
    throw unsupported(
      `${given} is not a kernel modules tree (it has no modules.order)`,
      'give the kernel release directory itself, e.g. --modules /lib/modules/6.1.0-57-amd64',
    );
  }
  throw unsupported(
    release === undefined
      ? `cannot tell the release of kernel ${input.kernel}, so not where its modules are`
      : `kernel ${input.kernel} is ${release}, and ${input.rootfs} has no modules for it (lib/modules/${release})`,
    'give its modules tree with --modules DIR (launch: modulesDir), e.g. from the kernel package unpacked with dpkg-deb -x',
  );
}

/** A module file's bytes, decompressed the way its name says. */
async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith('.gz')) return gunzipSync(await readFile(path));
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : undefined;
  if (tool === undefined) return readFile(path);
  const { execa } = await import('execa');
  const result = await execa(tool, ['-dc', path], {
    encoding: 'buffer',
    // Bytes, not text: a module that ends in 0x0a keeps it.
    stripFinalNewline: false,
    reject: false,
    stdin: 'ignore',
  });
  if (result.failed || result.exitCode !== 0) {
    throw unsupported(
      `cannot decompress kernel module ${path} with ${tool}`,
      `install ${tool === 'xz' ? 'xz-utils' : 'zstd'}, or give a modules tree with uncompressed modules`,
    );
  }
  return Buffer.from(result.stdout);
}

/** Resolve a module file: modules.order names `.ko`, the tree may hold it compressed. */
async function moduleFile(dir: string, relative: string): Promise<{ path: string; bytes: Buffer }> {
  for (const suffix of ['', '.xz', '.zst', '.gz']) {
    const path = join(dir, relative + suffix);
    if (
      await access(path).then(
        () => true,
        () => false,
      )
    )
      return { path, bytes: await readModule(path) };
  }
  throw unsupported(
    `kernel module ${relative} is listed in ${join(dir, 'modules.order')} but not there`,
    'give a complete modules tree (the kernel package unpacked)',
  );
}

/** The first static busybox built for `arch`: the tree's own, then the host's. */
async function findBusybox(rootfs: string, arch: Arch): Promise<{ path: string; bytes: Buffer }> {
  const candidates = [
    join(rootfs, 'usr/bin/busybox'),
    join(rootfs, 'bin/busybox'),
    '/usr/bin/busybox',
    '/bin/busybox',
  ];
  for (const path of candidates) {
    const bytes = await readFile(path).catch(() => undefined);
    const facts = bytes && elfFacts(bytes);
    if (bytes && facts?.arch === arch && facts.static) return { path, bytes };
  }
  throw new QlaunchError(
    ErrorCode.HOST_TOOL_MISSING,
    `no static busybox for ${arch} in ${rootfs} or on the host: the guest's first program is one`,
    {
      hint: `install busybox-static (apt-get install busybox-static${arch === 'x86_64' ? '' : `:${arch === 'aarch64' ? 'arm64' : arch}`}), or into the tree (mmdebstrap --include=busybox-static)`,
    },
  );
}

/** What the guest must load: each transport's modules and the overlay are required; the rest are best effort. */
function wantedModules(input: InitramfsInput): { required: string[]; optional: string[] } {
  const transports = new Set([input.root.transport, ...input.mounts.map((m) => m.transport)]);
  const required = [
    ...(transports.has('9p') ? ['9pnet_virtio', '9p'] : []),
    ...(transports.has('virtiofs') ? ['virtiofs'] : []),
    'overlay',
  ];
  // PCI and the status port; arm and riscv virt machines put PCI behind a generic host bridge.
  const optional = [
    'virtio_pci',
    'virtio_console',
    ...(input.network ? ['virtio_net'] : []),
    ...(input.arch === 'x86_64' ? [] : ['pci_host_generic']),
  ];
  return { required, optional };
}

export async function buildInitramfs(input: InitramfsInput): Promise<Initramfs> {
  const release = kernelRelease(await readFile(input.kernel));
  const modulesDir = await findModulesDir(input, release);
  const index = moduleIndex((await readText(join(modulesDir, 'modules.order'))) ?? '');
  const builtin = builtinModules((await readText(join(modulesDir, 'modules.builtin'))) ?? '');
  const files = new Map<string, Buffer>();
  const dependsOf = async (name: string) => {
    const relative = index.get(name) ?? '';
    const { bytes } = await moduleFile(modulesDir, relative);
    files.set(name, bytes);
    return modinfoDepends(bytes);
  };
  const { required, optional } = wantedModules(input);
  const plan = await loadOrder([...optional, ...required], index, builtin, dependsOf);
  const lacking = required.filter((name) => plan.missing.includes(name));
  if (lacking.length > 0) {
    throw unsupported(
      `kernel ${input.kernel} has no ${lacking.join(', ')}: neither built in nor a module in ${modulesDir}`,
      'boot a kernel with 9p or virtiofs and overlayfs (built in or as modules), e.g. a distribution kernel',
    );
  }
  const busybox = await findBusybox(input.rootfs, input.arch);
  const modules = plan.order.map((name) => `${name}.ko`);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'lib', 'lib/modules'].map((path) => ({ kind: 'dir' as const, path })),
    // The kernel opens /dev/console for /init before anything is mounted.
    { kind: 'char', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: 'bin/busybox', data: busybox.bytes, mode: 0o755 },
    ...plan.order.map((name) => ({
      kind: 'file' as const,
      path: `lib/modules/${name}.ko`,
      data: files.get(name) ?? Buffer.alloc(0),
    })),
    { kind: 'file', path: 'init', data: Buffer.from(initScript({ ...input, modules })), mode: 0o755 },
  ];
  return { cpio: buildCpio(entries), release, modulesDir, busybox: busybox.path };
}
