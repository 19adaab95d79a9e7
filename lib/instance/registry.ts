// Finding instances by name: opening one (or explaining why it cannot be), listing them, and removing one that a
// killed `create` left unfinished or whose config is damaged.

import { readdir, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { notADirectory } from '../image/store-location.js';
import type { Logger } from '../logger.js';
import { normalizeSpec } from '../machine/spec.js';
import { didYouMean } from '../machine/suggest.js';
import { leaveAllNetworks } from '../network/store.js';
import { type InstanceConfig, readInstanceConfig } from './config.js';
import { INSTANCE_NAME, type InstancePaths, instancePaths, instancesRoot, networksDirFor } from './layout.js';
import { acquireLock } from './lock.js';
import { liveQemu } from './state.js';
import { requireNoQemu, stopInstanceQemu } from './stop.js';

/** The names of the instances under `root` (complete or not). */
export async function instanceNames(root: string = instancesRoot()): Promise<string[]> {
  const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTDIR') throw rootNotDirectory(root);
    return [] as string[];
  });
  return entries.filter((name) => INSTANCE_NAME.test(name)).sort();
}

const rootNotDirectory = (root: string) =>
  notADirectory(root, 'its instances', `mv ${root} ${root}.moved, or set QLAUNCH_HOME to another directory`);

/** Refuse, naming the path, when the instances directory or instance `name`'s entry in it is not a directory. */
export async function checkInstanceDirs(name: string, paths: InstancePaths): Promise<void> {
  const root = dirname(paths.dir);
  if ((await stat(root).catch(() => undefined))?.isDirectory() === false) throw rootNotDirectory(root);
  if ((await stat(paths.dir).catch(() => undefined))?.isDirectory() === false) {
    throw notADirectory(paths.dir, `instance ${name}`, `rm ${paths.dir}`);
  }
}

/** Instance `name`'s paths and config; an unknown or unfinished one is an error that says what to do. */
export async function readInstance(
  name: string,
  root: string | undefined,
): Promise<{ paths: InstancePaths; config: InstanceConfig }> {
  const paths = instancePaths(name, root);
  const config = await readInstanceConfig(paths.config).catch(async (error: NodeJS.ErrnoException) => {
    // A file where the instance directory (or the instances directory) belongs: say so, never remove it.
    if (error.code === 'ENOTDIR') await checkInstanceDirs(name, paths);
    if (error.code !== 'ENOENT') throw error;
    const known = await instanceNames(root);
    const half = await stat(paths.dir).catch(() => undefined);
    throw new QlaunchError(
      ErrorCode.INSTANCE_NOT_FOUND,
      half
        ? `instance ${name} was never finished (${paths.dir} has no instance.json)`
        : `no instance named ${name}`,
      {
        hint: half
          ? `remove it with \`qlaunch rm ${name}\` and create it again`
          : `${didYouMean(name, known)}\`qlaunch ls\` lists instances; \`qlaunch create ${name} --image …\` makes one`.trim(),
      },
    );
  });
  return { paths, config };
}

/** Whether `error` (from opening instance `name`) is one a directory without a usable config gives. */
export const isUnusable = (error: unknown): boolean =>
  isQlaunchError(error, ErrorCode.INSTANCE_NOT_FOUND) ||
  isQlaunchError(error, ErrorCode.INSTANCE_CONFIG_INVALID);

/**
 * Remove the directory of instance `name`, unfinished or damaged, as long as no command holds its lock; a QEMU
 * still running from it is stopped first, only with `force`.
 */
export async function destroyUnusable(
  name: string,
  options: { root?: string | undefined; force?: boolean | undefined; logger: Logger },
): Promise<void> {
  const paths = instancePaths(name, options.root);
  const key = await stat(paths.lockKey).catch(() => undefined);
  const lock = key ? await acquireLock(name, paths.dir, paths.lockKey, 'remove') : undefined;
  try {
    const { livePid, runtime } = await liveQemu(paths);
    if (livePid !== undefined) {
      if (!options.force) {
        throw new QlaunchError(ErrorCode.INSTANCE_RUNNING, `instance ${name} is running; not removing it`, {
          hint: `pass --force to stop and remove it`,
        });
      }
      // No config to read the machine from: a forced stop needs none (the guest is not asked).
      await stopInstanceQemu(paths, livePid, normalizeSpec({ name }), {
        force: true,
        logger: options.logger,
        accel: runtime?.accel ?? 'tcg',
        what: { name, doing: 'remove' },
      });
    } else await requireNoQemu(paths, { name, doing: 'remove' });
    await rm(paths.dir, { recursive: true, force: true });
    // Its addresses too: a create killed after taking them left no config to say which.
    await leaveAllNetworks(name, { dir: networksDirFor(dirname(paths.dir)) });
  } finally {
    await lock?.release();
  }
}
