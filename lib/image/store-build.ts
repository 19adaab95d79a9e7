// Building a Debian image straight into the store: built in a scratch directory there, then moved in as one image.

import { join } from 'node:path';
import type { Arch } from '../arch/table.js';
import { type BuildDebianImageOptions, buildDebianImage } from './debian-build.js';
import { type DebianRelease, imageName } from './debian-recipe.js';
import { checkImageName, imageNameForArch } from './image-name.js';
import { registerDebianImage } from './register.js';
import { removeTree } from './staging.js';
import { createScratch, findImage, type ImageStore, imageExists, type StoredImage } from './store.js';

export interface BuildStoredImageOptions extends Omit<BuildDebianImageOptions, 'outDir'> {
  /** Default `debian-12-local` for x86_64, `debian-12-local-<arch>` otherwise. */
  name?: string | undefined;
}

/** The name a locally built image gets unless one is given. */
export const defaultBuildName = (release: DebianRelease, arch: Arch): string =>
  imageNameForArch(`${imageName(release)}-local`, arch);

/**
 * Builds a Debian image (see buildDebianImage) and stores it as `name` with its kernel and initrd. A taken name
 * fails before the build starts; a failed or aborted build leaves nothing in the store.
 */
export async function buildStoredDebianImage(
  store: ImageStore,
  options: BuildStoredImageOptions,
): Promise<StoredImage> {
  const { name: given, ...build } = options;
  const name = checkImageName(given ?? defaultBuildName(build.release ?? 'bookworm', build.arch));
  if (await findImage(store, name).catch(() => true)) throw imageExists(store, name);
  const scratch = await createScratch(store);
  try {
    const built = await buildDebianImage({ ...build, outDir: join(scratch, 'image') });
    return await registerDebianImage(store, built, { name, move: true, signal: build.signal });
  } finally {
    await removeTree(scratch);
  }
}
