// Thin typed wrappers over qemu-img: info (with the backing chain), check, an overlay on a base image, convert.
// Every call names the image's format: qemu-img never probes one.

import { randomBytes } from 'node:crypto';
import { chmod, link, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { requireQemuImg } from '../host/binaries.js';
import { requireOpenableImage } from './image-file.js';
import { type ImageInfoWithChain, parseImageInfoOutput } from './qemu-img-info.js';

export type { ImageInfo, ImageInfoWithChain } from './qemu-img-info.js';

const FORMAT = /^[a-z0-9]+$/;
const MIB = 1024 * 1024;

const optionalNumber = (value: unknown): number | undefined =>
  typeof value === 'number' ? value : undefined;

let qemuImgPath: { pathVar: string | undefined; path: Promise<string> } | undefined;

/** qemu-img's path, looked up once per PATH (the lookup runs `qemu-img --version`). */
function qemuImg(): Promise<string> {
  const pathVar = process.env['PATH'];
  if (qemuImgPath?.pathVar !== pathVar) {
    const path = requireQemuImg().then((found) => found.path);
    qemuImgPath = { pathVar, path };
    path.catch(() => (qemuImgPath = undefined));
  }
  return qemuImgPath!.path;
}

interface QemuImgRun {
  exitCode: number;
  stdout: string;
  /** The first lines of stderr (a check of a wrecked image prints thousands). */
  stderr: string;
}

async function runQemuImg(args: string[]): Promise<QemuImgRun> {
  const file = await qemuImg();
  const { execa } = await import('execa');
  const result = await execa(file, args, { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  const stderr = String(result.stderr).split('\n').slice(0, 3).join('\n').trim();
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout),
    stderr: stderr || (result.shortMessage ?? ''),
  };
}

/** qemu-img reads `name:…` (and `json:…`) as a protocol, not a file; an absolute path never is one. */
const asFile = (path: string): string => resolve(path);

const toolFailed = (what: string, run: QemuImgRun, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_TOOL_FAILED, `${what} failed: ${run.stderr.replace(/^qemu-img: /, '')}`, {
    hint,
  });

export interface ImageInfoOptions {
  /** The image's format (from the format inspector, or a store record): qemu-img is told it, never left to probe. */
  format: string;
  /** Also describe every backing file below the image. */
  backingChain?: boolean | undefined;
}

/**
 * qemu-img info for `path`, read as `options.format`. Runs with --force-share, so it works on an image a running
 * VM holds. A file qemu-img cannot open as an image is an IMAGE_INVALID error naming it.
 */
export async function qemuImgInfo(path: string, options: ImageInfoOptions): Promise<ImageInfoWithChain> {
  const args = ['info', '--output=json', '--force-share', '-f', checkFormat(options.format)];
  if (options.backingChain) args.push('--backing-chain');
  const run = await runQemuImg([...args, asFile(path)]);
  if (run.exitCode !== 0) {
    throw new QlaunchError(
      ErrorCode.IMAGE_INVALID,
      `${path} cannot be read as a disk image: ${run.stderr.replace(/^qemu-img: /, '')}`,
      { hint: 'check that the file is a whole, uncompressed disk image (raw or qcow2)' },
    );
  }
  return parseImageInfoOutput(run.stdout, path);
}

/** What `qemu-img check` found. */
export interface ImageCheck {
  /** clean; leaks (wasted clusters, harmless); corrupt; failed (the check could not finish); unsupported (raw). */
  status: 'clean' | 'leaks' | 'corrupt' | 'failed' | 'unsupported';
  corruptions: number;
  checkErrors: number;
  leaks: number;
  /** qemu-img's first error lines, when it printed any. */
  detail: string;
}

// qemu-img check's exit statuses (docs/tools/qemu-img.rst).
const CHECK_STATUS: Readonly<Record<number, ImageCheck['status']>> = {
  0: 'clean',
  1: 'failed',
  2: 'corrupt',
  3: 'leaks',
  63: 'unsupported',
};

/** Runs qemu-img check (read-only: it repairs nothing) on an image of a known format. */
export async function qemuImgCheck(path: string, format: string): Promise<ImageCheck> {
  const run = await runQemuImg([
    'check',
    '--output=json',
    '--force-share',
    '-f',
    checkFormat(format),
    asFile(path),
  ]);
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {}
  const count = (key: string): number => optionalNumber(report[key]) ?? 0;
  return {
    status: CHECK_STATUS[run.exitCode] ?? 'failed',
    corruptions: count('corruptions'),
    checkErrors: count('check-errors'),
    leaks: count('leaks'),
    detail: run.stderr,
  };
}

function checkFormat(format: string): string {
  // A caller from plain JavaScript may leave it out: that must not become a probe (or the string "undefined").
  if (typeof format === 'string' && FORMAT.test(format)) return format;
  throw new QlaunchError(ErrorCode.IMAGE_INVALID, `'${format}' is not a disk image format name`, {
    hint: 'name the format qemu-img is to read it as: raw or qcow2',
  });
}

/** Refuses a base the format inspector refuses, or one whose bytes are not the format it is to be opened as. */
async function requireBaseFormat(base: string, format: string): Promise<void> {
  const found = await requireOpenableImage(base);
  if (found.format !== format) {
    throw new QlaunchError(ErrorCode.IMAGE_INVALID, `${base} is ${found.format}, not ${format}`, {
      hint: 'remove the image and add it again: its record no longer matches its file',
    });
  }
}

/** A unique name beside `path`, for writing there and then linking into place. */
const besideTemp = (path: string): string =>
  join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);

/** Hard-links the finished `temp` to `path` (fails if `path` exists: never replaces a file), then drops `temp`. */
async function linkIntoPlace(temp: string, path: string, code: ErrorCode): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    throw new QlaunchError(code, `${path} already exists`, { hint: 'remove it, or choose another path' });
  } finally {
    await rm(temp, { force: true });
  }
}

export interface OverlayOptions {
  /** Size of the overlay's disk; default the base's virtual size. Smaller than the base is refused. */
  sizeMiB?: number | undefined;
  /**
   * The base is a layer qlaunch wrote itself on a stored image (a warm image's disk), so its backing file is known
   * and allowed; any other base that reads another file is refused.
   */
  ownLayer?: boolean | undefined;
}

/**
 * A new qcow2 at `path` (0600) whose backing file is `base`. The base is only ever read: every write the guest
 * makes lands in the overlay. The backing format is recorded (QEMU 6.1 and later require it), the base path is
 * made absolute (qemu-img would read a relative one from the overlay's directory), and `path` is never overwritten.
 * The base must still be what the format inspector accepts, as `baseFormat`: QEMU will open it as that.
 */
export async function createOverlay(
  base: string,
  baseFormat: string,
  path: string,
  options: OverlayOptions = {},
): Promise<void> {
  const absoluteBase = resolve(base);
  checkFormat(baseFormat);
  if (!options.ownLayer) await requireBaseFormat(absoluteBase, baseFormat);
  const sizeArgs: string[] = [];
  if (options.sizeMiB !== undefined) {
    const { sizeMiB } = options;
    if (!Number.isSafeInteger(sizeMiB) || sizeMiB <= 0) {
      throw new QlaunchError(
        ErrorCode.IMAGE_OVERLAY_INVALID,
        `overlay size ${sizeMiB} MiB is not a whole positive number`,
        {
          hint: 'give the disk size in MiB, e.g. 10240 for 10 GiB',
        },
      );
    }
    const info = await qemuImgInfo(absoluteBase, { format: baseFormat });
    if (sizeMiB * MIB < info.virtualSize) {
      const needed = Math.ceil(info.virtualSize / MIB);
      throw new QlaunchError(
        ErrorCode.IMAGE_OVERLAY_INVALID,
        `a ${sizeMiB} MiB disk is smaller than its base image ${absoluteBase} (${needed} MiB)`,
        { hint: `give at least ${needed} MiB, or no size to use the base's` },
      );
    }
    sizeArgs.push(`${sizeMiB}M`);
  }
  if (
    await stat(path).then(
      () => true,
      () => false,
    )
  ) {
    throw new QlaunchError(ErrorCode.IMAGE_OVERLAY_INVALID, `${path} already exists`, {
      hint: 'remove it, or choose another path: qlaunch never overwrites a disk',
    });
  }
  const temp = besideTemp(path);
  try {
    const args = ['create', '-q', '-f', 'qcow2', '-b', absoluteBase, '-F', baseFormat];
    const run = await runQemuImg([...args, '-o', 'lazy_refcounts=on', asFile(temp), ...sizeArgs]);
    if (run.exitCode !== 0) {
      throw toolFailed(
        `creating an overlay on ${absoluteBase}`,
        run,
        'check that the base image is readable',
      );
    }
    // The overlay holds the guest's data: private, like every instance file.
    await chmod(temp, 0o600);
    await linkIntoPlace(temp, path, ErrorCode.IMAGE_OVERLAY_INVALID);
  } finally {
    await rm(temp, { force: true });
  }
}

export interface ConvertOptions {
  /** Output format, e.g. qcow2 or raw. */
  format: string;
  /** Input format: named, never probed. */
  sourceFormat: string;
}

/** Converts `source` to a new image `dest` (0600, never overwritten); written beside it, then linked into place. */
export async function convertImage(source: string, dest: string, options: ConvertOptions): Promise<void> {
  const from = ['-f', checkFormat(options.sourceFormat)];
  const temp = besideTemp(dest);
  try {
    const to = ['-O', checkFormat(options.format), asFile(temp)];
    const run = await runQemuImg(['convert', '-U', ...from, asFile(source), ...to]);
    if (run.exitCode !== 0) {
      throw toolFailed(
        `converting ${source} to ${options.format}`,
        run,
        'check the source image and free space',
      );
    }
    await chmod(temp, 0o600);
    await linkIntoPlace(temp, dest, ErrorCode.IMAGE_TOOL_FAILED);
  } finally {
    await rm(temp, { force: true });
  }
}
