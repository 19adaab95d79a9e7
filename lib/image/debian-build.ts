// Building a Debian cloud image (qcow2 + kernel + initrd + manifest) offline from Debian packages with mmdebstrap.

import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import {
  type BuildMode,
  extractRootCommand,
  IMAGE_FILES,
  mkfsCommand,
  mmdebstrapCommand,
  qcow2Command,
  STAGING_FILES,
} from './debian-argv.js';
import { type DebianImage, debianManifest, manifestJson } from './debian-manifest.js';
import { chooseBuildMode, probeBuildHost } from './debian-preflight.js';
import {
  customizeFiles,
  type DebianImageArch,
  type DebianRelease,
  diskSizeMiB,
  imageName,
  kernelMetaPackage,
  planDebianBuild,
  type RootFile,
  reportedPackages,
  setupFiles,
} from './debian-recipe.js';
import { kernelImageOf, packageVersions, parseDpkgStatus } from './dpkg-status.js';
import { assertOutDirFree, createStaging, publish, removeStaleStaging, removeTree } from './staging.js';
import { ancestorDirectories, ustarArchive } from './tar.js';
import { abortedError, runTool } from './tool-run.js';

export type { DebianImage } from './debian-manifest.js';

export interface BuildDebianImageOptions {
  release?: DebianRelease | undefined;
  arch: DebianImageArch;
  /** Where the finished image goes; must not exist yet (or be empty). Built beside it, then renamed into place. */
  outDir: string;
  /** Size of the root disk; default 2048 MiB, or more when the files need it. The qcow2 only holds what is used. */
  diskSizeMiB?: number;
  /** Debian mirror for the release and its updates (default http://deb.debian.org/debian). */
  mirror?: string;
  /** Mirror of the security suite (default http://deb.debian.org/debian-security). */
  securityMirror?: string;
  /** More packages to install, by name. */
  extraPackages?: readonly string[];
  /** Every progress line: qlaunch's steps and the tools' own output. */
  onProgress?: (line: string) => void;
  logger?: Logger;
  /** Aborting stops the running tool and removes everything half-made. */
  signal?: AbortSignal;
  /** mmdebstrap mode; default root when running as root, else unshare (user namespace, needs subuids). */
  mode?: BuildMode;
}

const DPKG_PERCENT = /^\(Reading database \.\.\. (\d+%)?$/;

/** A root file as a tar entry: relative path, root-owned. */
const tarEntries = (files: readonly RootFile[]) => {
  const paths = files.map((file) => file.path.replace(/^\/+/, ''));
  return [
    ...ancestorDirectories(paths),
    ...files.map((file, i) => ({
      path: paths[i]!,
      type: 'file' as const,
      mode: file.mode,
      content: file.content,
    })),
  ];
};

/** The one kernel in the root's /boot and its initrd (riscv64's is an uncompressed `vmlinux-VERSION`). */
async function findKernel(root: string): Promise<{ version: string; kernel: string; initrd: string }> {
  const boot = join(root, 'boot');
  const names = await readdir(boot).catch(() => [] as string[]);
  const kernels = names.filter((name) => /^vmlinu[zx]-.+$/.test(name));
  const file = kernels.length === 1 ? kernels[0] : undefined;
  const version = file?.slice('vmlinuz-'.length);
  if (file === undefined || version === undefined || !names.includes(`initrd.img-${version}`)) {
    throw new QlaunchError(
      ErrorCode.IMAGE_BUILD_FAILED,
      `expected one kernel and its initrd in the image's /boot, found: ${names.join(', ') || 'nothing'}`,
      { hint: 'check the mmdebstrap output above for a failed kernel or initramfs-tools step' },
    );
  }
  return { version, kernel: join(boot, file), initrd: join(boot, `initrd.img-${version}`) };
}

/** Bytes the root's files take on disk. */
async function contentBytes(root: string, env: NodeJS.ProcessEnv): Promise<number> {
  const { execa } = await import('execa');
  const { stdout } = await execa('du', ['-s', '-x', '-B1', root], { env, extendEnv: false });
  const bytes = Number.parseInt(stdout, 10);
  if (!Number.isFinite(bytes)) {
    throw new QlaunchError(
      ErrorCode.IMAGE_BUILD_FAILED,
      `cannot read the size of ${root} from du: ${stdout}`,
    );
  }
  return bytes;
}

/** Builds a Debian cloud image into `outDir` and returns where its parts are; on failure or abort nothing is left. */
export async function buildDebianImage(options: BuildDebianImageOptions): Promise<DebianImage> {
  const plan = planDebianBuild(options);
  const outDir = resolve(options.outDir);
  const logger = (options.logger ?? silentLogger).child({ image: imageName(plan.release), arch: plan.arch });
  const signal = options.signal;
  const name = `${imageName(plan.release)} ${plan.arch}`;
  const progress = (line: string): void => {
    // dpkg redraws a percentage twenty times per run: the final count line says it all.
    if (DPKG_PERCENT.test(line)) return;
    options.onProgress?.(line);
    logger.debug(line);
  };
  const started = Date.now();
  const seconds = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const step = (line: string): void => {
    logger.info(line);
    options.onProgress?.(`${name}: ${line} [${seconds()}]`);
  };

  await assertOutDirFree(outDir);
  const mode = chooseBuildMode(await probeBuildHost(plan.arch), plan.arch, options.mode);
  if (signal?.aborted) throw abortedError('preparation');
  await mkdir(dirname(outDir), { recursive: true, mode: 0o700 });
  for (const stale of await removeStaleStaging(outDir)) {
    step(`removed ${stale}, left by a build that was killed`);
  }
  const staging = await createStaging(outDir);
  // Tools find /usr/sbin programs (mkfs.ext4) even from a non-root PATH.
  const env = { ...process.env, PATH: [process.env['PATH'] ?? '', '/usr/sbin', '/sbin'].join(delimiter) };
  const run = (command: Parameters<typeof runTool>[0], what: string, hint: string) =>
    runTool(command, { cwd: staging, env, onLine: progress, signal, step: what, hint });
  try {
    const mtime = Math.floor(started / 1000);
    await writeFile(
      join(staging, STAGING_FILES.setupTar),
      ustarArchive(tarEntries(setupFiles(plan.arch)), mtime),
    );
    await writeFile(
      join(staging, STAGING_FILES.customizeTar),
      ustarArchive(tarEntries(customizeFiles()), mtime),
    );
    await mkdir(join(staging, STAGING_FILES.out), { mode: 0o700 });

    step(`mmdebstrap ${plan.release} (${mode} mode, ${plan.packages.length} packages on minbase)`);
    await run(
      mmdebstrapCommand({ plan, mode }),
      'mmdebstrap (the image root)',
      'check that the Debian mirror is reachable and the package names exist',
    );
    const root = join(staging, STAGING_FILES.root);
    if (mode === 'unshare') {
      step('unpacking the root as fake root');
      await mkdir(root);
      await run(
        extractRootCommand(),
        'unpacking the root tarball',
        'check free space beside the output directory',
      );
      await rm(join(staging, STAGING_FILES.rootTar));
    }

    const installed = parseDpkgStatus(await readFile(join(root, 'var/lib/dpkg/status'), 'utf8'));
    const kernel = await findKernel(root);
    const kernelPackage = kernelImageOf(installed, kernelMetaPackage(plan.arch));
    const wanted = [...reportedPackages(plan.arch), ...(kernelPackage ? [kernelPackage.name] : [])];
    const { versions, missing } = packageVersions(installed, wanted);
    if (missing.length > 0 || !kernelPackage) {
      throw new QlaunchError(
        ErrorCode.IMAGE_BUILD_FAILED,
        `the image root lacks ${missing.join(', ') || 'a kernel'}`,
        {
          hint: 'check the mmdebstrap output for packages that failed to install',
        },
      );
    }
    await copyFile(kernel.kernel, join(staging, STAGING_FILES.out, IMAGE_FILES.kernel));
    await copyFile(kernel.initrd, join(staging, STAGING_FILES.out, IMAGE_FILES.initrd));

    const sizeMiB = diskSizeMiB(await contentBytes(root, env), plan.diskSizeMiB);
    step(`ext4 root filesystem, ${sizeMiB} MiB (kernel ${kernel.version})`);
    await run(
      mkfsCommand(mode, sizeMiB),
      'mkfs.ext4 (the root filesystem)',
      'check free space beside the output directory',
    );
    // The root is in the filesystem now: free its space before the qcow2 needs the same again.
    await removeTree(root);
    step('qcow2 image');
    await run(
      qcow2Command(),
      'qemu-img convert (the qcow2 image)',
      'check free space beside the output directory',
    );
    await rm(join(staging, STAGING_FILES.rawDisk));

    const manifest = debianManifest({
      dir: outDir,
      arch: plan.arch,
      release: plan.release,
      kernelVersion: kernel.version,
      packages: versions,
      diskSizeMiB: sizeMiB,
    });
    const manifestPath = join(outDir, IMAGE_FILES.manifest);
    await writeFile(join(staging, STAGING_FILES.out, IMAGE_FILES.manifest), manifestJson(manifest));
    if (signal?.aborted) throw abortedError('publishing');
    await publish(join(staging, STAGING_FILES.out), outDir);
    step(`built ${outDir}`);
    const { image, kernel: kernelPath, initrd, append, arch, release, packages } = manifest;
    return { image, kernel: kernelPath, initrd, append, arch, release, packages, manifest: manifestPath };
  } finally {
    await removeTree(staging).catch((error: unknown) => {
      logger.warn({ err: error }, `could not remove ${staging}`);
      options.onProgress?.(`${name}: could not remove ${staging}: ${(error as Error).message}`);
    });
  }
}
