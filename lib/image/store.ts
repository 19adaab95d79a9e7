// The base image store: one private directory per image under the qlaunch home, its files read-only (0444),
// added whole by a single rename and never written after; half-made additions live in dot-directories beside.

import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { processAlive } from '../process-alive.js';
import { type ImageMetadata, METADATA_SCHEMA, metadataJson, parseImageMetadata } from './image-metadata.js';
import { checkImageName, IMAGE_NAME } from './image-name.js';
import { removeTree } from './staging.js';
import { imageStoreDir, notADirectory } from './store-location.js';

/** Names of the files in an image's directory (the disk is `disk.<format>`). */
export const STORE_FILES = {
  metadata: 'image.json',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
} as const;

export const diskFileName = (format: string): string => `disk.${format}`;

export interface ImageStore {
  /** Absolute path of the images directory. */
  readonly dir: string;
}

export interface OpenImageStoreOptions {
  /** The images directory; default `<qlaunch home>/images` from `env`. */
  dir?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

/** The store at `dir` or where the environment says; nothing is created until an image is added. */
export const openImageStore = (options: OpenImageStoreOptions = {}): ImageStore => ({
  dir: resolve(options.dir ?? imageStoreDir(options.env)),
});

/** A stored image: its record plus absolute paths of its files. */
export interface StoredImage extends ImageMetadata {
  dir: string;
  /** The disk file: a base image, only ever opened read-only or as an overlay's backing file. */
  path: string;
  kernelPath?: string | undefined;
  initrdPath?: string | undefined;
}

function storedImage(dir: string, metadata: ImageMetadata): StoredImage {
  return {
    ...metadata,
    dir,
    path: join(dir, metadata.disk),
    ...(metadata.kernel === undefined ? {} : { kernelPath: join(dir, metadata.kernel) }),
    ...(metadata.initrd === undefined ? {} : { initrdPath: join(dir, metadata.initrd) }),
  };
}

const notFound = (store: ImageStore, name: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_NOT_FOUND, `there is no image '${name}' in ${store.dir}`, {
    hint: '`qlaunch image ls` lists the images; `qlaunch image pull` or `import` adds one',
  });

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

const storeNotDirectory = (store: ImageStore): QlaunchError =>
  notADirectory(
    store.dir,
    'its images',
    `mv ${store.dir} ${store.dir}.moved, or set QLAUNCH_HOME to another directory`,
  );

/** After ENOTDIR under image `dir`: the store, or the image's own entry, is a file; which one, as an error. */
async function fileInTheWay(store: ImageStore, name: string, dir: string): Promise<QlaunchError> {
  if ((await stat(store.dir).catch(() => undefined))?.isDirectory() === false)
    return storeNotDirectory(store);
  return notADirectory(dir, `image ${name}`, `rm ${dir}`);
}

/** The image called `name`, or undefined when there is none; a damaged record is an error. */
export async function findImage(store: ImageStore, name: string): Promise<StoredImage | undefined> {
  const dir = join(store.dir, checkImageName(name));
  const recordPath = join(dir, STORE_FILES.metadata);
  let text: string;
  try {
    text = await readFile(recordPath, 'utf8');
  } catch (error) {
    if (isMissing(error) && !(await stat(dir).catch(() => undefined))) return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw await fileInTheWay(store, name, dir);
    throw new QlaunchError(ErrorCode.IMAGE_STORE, `cannot read ${recordPath}`, {
      hint: `remove the damaged image: qlaunch image rm ${name}`,
      cause: error,
    });
  }
  const metadata = parseImageMetadata(text, recordPath);
  if (metadata.name !== name) {
    throw new QlaunchError(
      ErrorCode.IMAGE_STORE,
      `${recordPath} describes '${metadata.name}', not '${name}'`,
      {
        hint: `rename the directory back, or remove it: qlaunch image rm ${name}`,
      },
    );
  }
  return storedImage(dir, metadata);
}

/** The image called `name`; an unknown name is an IMAGE_NOT_FOUND error. */
export async function getImage(store: ImageStore, name: string): Promise<StoredImage> {
  const image = await findImage(store, name);
  if (!image) throw notFound(store, name);
  return image;
}

export interface ImageListing {
  /** Sorted by name. */
  images: StoredImage[];
  /** Image directories whose record cannot be read, with why; `image rm` removes them. */
  broken: { name: string; problem: string }[];
}

/** Every image in the store; half-made additions (dot-directories) and stray files are not images. */
export async function listImages(store: ImageStore): Promise<ImageListing> {
  const entries = await readdir(store.dir, { withFileTypes: true }).catch((error: unknown) => {
    if (isMissing(error)) return [];
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw storeNotDirectory(store);
    throw new QlaunchError(ErrorCode.IMAGE_STORE, `cannot read the image store ${store.dir}`, {
      hint: 'check its permissions',
      cause: error,
    });
  });
  const listing: ImageListing = { images: [], broken: [] };
  const names = entries.filter((e) => e.isDirectory() && IMAGE_NAME.test(e.name)).map((e) => e.name);
  for (const name of names.sort()) {
    try {
      const image = await findImage(store, name);
      if (image) listing.images.push(image);
    } catch (error) {
      listing.broken.push({ name, problem: (error as Error).message });
    }
  }
  return listing;
}

// Scratch directories in the store carry their owner's pid, so ones left by a killed process can be swept.
const SCRATCH = /^\.(?:tmp|rm)-(\d+)-/;

/** Removes scratch directories whose process is gone (killed mid-pull, mid-import); returns their names. */
export async function sweepStore(store: ImageStore): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await readdir(store.dir).catch(() => [] as string[])) {
    const pid = Number(SCRATCH.exec(name)?.[1] ?? Number.NaN);
    if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await removeTree(join(store.dir, name));
    swept.push(name);
  }
  return swept;
}

/** Creates the store (0700, parents too) and a private scratch directory in it, on the store's filesystem. */
export async function createScratch(store: ImageStore, kind: 'tmp' | 'rm' = 'tmp'): Promise<string> {
  await mkdir(store.dir, { recursive: true, mode: 0o700 });
  await sweepStore(store);
  return mkdtemp(join(store.dir, `.${kind}-${process.pid}-`));
}

export interface RemoveImageOptions {
  /** Who stands on the image in `dir` (names): the store knows nothing of them, its caller does. */
  inUse?: ((dir: string) => Promise<string[]>) | undefined;
}

/**
 * Removes the image called `name` (its directory is renamed aside first, so it vanishes at once) and returns it;
 * one that `inUse` names users of is refused.
 */
export async function removeImage(
  store: ImageStore,
  name: string,
  options: RemoveImageOptions = {},
): Promise<{ name: string; dir: string }> {
  const dir = join(store.dir, checkImageName(name));
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw notFound(store, name);
  // Warm images name their base in their own record: the store knows those users itself.
  const warm = (await listImages(store)).images.filter((image) => image.base === name).map((i) => i.name);
  if (warm.length > 0) {
    throw new QlaunchError(
      ErrorCode.IMAGE_IN_USE,
      `image ${name} is the base of warm image${warm.length > 1 ? 's' : ''} ${warm.join(', ')}`,
      {
        hint: `remove ${warm.length > 1 ? 'them' : 'it'} first (\`qlaunch image rm ${warm.join(' ')}\`): their disk layers stand on this image`,
      },
    );
  }
  const users = (await options.inUse?.(dir)) ?? [];
  if (users.length > 0) {
    throw new QlaunchError(
      ErrorCode.IMAGE_IN_USE,
      `image ${name} is the base disk of instance${users.length > 1 ? 's' : ''} ${users.join(', ')}`,
      {
        hint: `remove ${users.length > 1 ? 'them' : 'it'} first (\`qlaunch rm ${users.join(' ')}\`): their disks are overlays on this image`,
      },
    );
  }
  const scratch = await createScratch(store, 'rm');
  try {
    await rename(dir, join(scratch, name));
  } catch (error) {
    await rmdir(scratch).catch(() => {});
    if (isMissing(error)) throw notFound(store, name);
    throw error;
  }
  await removeTree(scratch);
  return { name, dir };
}

/** What the code adding an image says about the files it put in place. */
export type NewImage = Omit<ImageMetadata, 'schema' | 'name' | 'added'>;

export const imageExists = (store: ImageStore, name: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_EXISTS, `an image '${name}' is already in ${store.dir}`, {
    hint: `remove it first (qlaunch image rm ${name}), or choose another name`,
  });

export interface AddImageOptions {
  /** Files `fill` made private (a key, a file QEMU maps writable): left with the mode `fill` gave them. */
  privateFiles?: readonly string[] | undefined;
}

/**
 * Adds the image `name`: `fill` puts its files into a fresh scratch directory and describes them; then the
 * record is written, every file made read-only, and the directory renamed into place in one step. If `fill`
 * throws (or the name was taken meanwhile), the scratch directory goes and the store is as it was.
 */
export async function addImage(
  store: ImageStore,
  name: string,
  fill: (dir: string) => Promise<NewImage>,
  signal?: AbortSignal | undefined,
  options: AddImageOptions = {},
): Promise<StoredImage> {
  checkImageName(name);
  // A damaged image still takes the name; a file where the store or the image belongs is its own error.
  const taken = await findImage(store, name).catch((error: unknown) => {
    if (isQlaunchError(error, ErrorCode.PATH_NOT_DIRECTORY)) throw error;
    return true;
  });
  if (taken) throw imageExists(store, name);
  const scratch = await createScratch(store);
  try {
    const described = await fill(scratch);
    const metadata: ImageMetadata = {
      schema: METADATA_SCHEMA,
      name,
      ...described,
      added: new Date().toISOString(),
    };
    await writeFile(join(scratch, STORE_FILES.metadata), metadataJson(metadata), { mode: 0o444 });
    const kept = new Set(options.privateFiles ?? []);
    for (const file of await readdir(scratch)) {
      if (!kept.has(file)) await chmod(join(scratch, file), 0o444);
    }
    const final = join(store.dir, name);
    // The last moment an interrupt can still win: after the rename the image is stored.
    if (signal?.aborted) {
      throw new QlaunchError(ErrorCode.IMAGE_ABORTED, `adding image '${name}' was interrupted`, {
        hint: 'run it again; nothing half-made was kept',
      });
    }
    try {
      await rename(scratch, final);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') throw imageExists(store, name);
      throw error;
    }
    return storedImage(final, metadata);
  } catch (error) {
    await removeTree(scratch).catch(() => {});
    throw error;
  }
}
