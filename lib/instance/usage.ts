// Which instances stand on a base image: their overlays need it, so it must not be removed under them.

import { readdir } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { type ImageStore, removeImage } from '../image/store.js';
import { readInstanceConfig } from './config.js';
import { INSTANCE_FILES, INSTANCE_NAME } from './layout.js';

/** Names of the instances under `root` whose base disk lies inside `dir`. */
export async function instancesUsing(dir: string, root: string): Promise<string[]> {
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => INSTANCE_NAME.test(n));
  const users: string[] = [];
  for (const name of names.sort()) {
    const config = await readInstanceConfig(join(root, name, INSTANCE_FILES.config)).catch(() => undefined);
    if (config?.base && (config.base.path === dir || config.base.path.startsWith(`${dir}${sep}`)))
      users.push(name);
  }
  return users;
}

/** Remove a stored image unless instances (in `<home>/instances` beside the store) stand on it. */
export const removeUnusedImage = (store: ImageStore, name: string): Promise<{ name: string; dir: string }> =>
  removeImage(store, name, { inUse: (dir) => instancesUsing(dir, join(dirname(store.dir), 'instances')) });
