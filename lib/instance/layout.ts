// Where an instance lives: its name rules, its directory under the qlaunch home, and the names of every file in it.

import { join, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { GUEST_FILES } from '../files.js';
import { qlaunchHome } from '../image/store-location.js';
import { networksDir } from '../network/record.js';
import { MAX_UNIX_PATH_BYTES } from '../qmp/socket.js';

/** Every file an instance directory can hold (the same names as a throwaway run's). */
export const INSTANCE_FILES = GUEST_FILES;

export type InstanceFile = keyof typeof INSTANCE_FILES;
export type InstancePaths = { dir: string } & Record<InstanceFile, string>;

/** The files that only mean something while QEMU runs; removed on a clean stop and after a crash. */
export const RUNTIME_FILES = [
  'pid',
  'runtime',
  'qmp',
  'guestAgent',
  'serial',
  'vnc',
] as const satisfies readonly InstanceFile[];

export const INSTANCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Refuse names that are not safe as a directory and host name (`../x`, spaces, 200 characters). */
export function checkInstanceName(name: string): string {
  if (INSTANCE_NAME.test(name)) return name;
  const shown =
    name.length > 40
      ? `${JSON.stringify(name.slice(0, 40))}… (${name.length} characters)`
      : JSON.stringify(name);
  throw new QlaunchError(ErrorCode.INSTANCE_NAME_INVALID, `instance name ${shown} is not allowed`, {
    hint: 'use 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit (e.g. dev, web-1)',
  });
}

/** `<qlaunch home>/instances`. */
export const instancesRoot = (env: NodeJS.ProcessEnv = process.env): string =>
  join(qlaunchHome(env), 'instances');

/**
 * Where the private networks of the instances under `root` are recorded: `<qlaunch home>/networks` for the home's
 * instances, else `ROOT/.networks` (members are instance names, which mean something only under their own root).
 */
export const networksDirFor = (root: string = instancesRoot()): string =>
  resolve(root) === resolve(instancesRoot()) ? networksDir() : join(root, '.networks');

/** Every path of instance `name` (checked) under `root`. */
export function instancePaths(name: string, root: string = instancesRoot()): InstancePaths {
  const dir = join(root, checkInstanceName(name));
  const files = Object.fromEntries(
    Object.entries(INSTANCE_FILES).map(([key, file]) => [key, join(dir, file)]),
  ) as Record<InstanceFile, string>;
  return { dir, ...files };
}

/** Unix socket paths have a hard length limit: catch it when the instance is made, not when it first starts. */
export function checkSocketPaths(paths: InstancePaths): void {
  for (const path of [paths.qmp, paths.guestAgent, paths.serial, paths.vnc]) {
    const bytes = Buffer.byteLength(path);
    if (bytes > MAX_UNIX_PATH_BYTES) {
      throw new QlaunchError(
        ErrorCode.INSTANCE_PATH_TOO_LONG,
        `the socket path ${path} would be ${bytes} bytes; the OS allows ${MAX_UNIX_PATH_BYTES}`,
        {
          hint: `use a shorter instance name, or set QLAUNCH_HOME to a shorter directory (e.g. QLAUNCH_HOME=~/.qlaunch)`,
        },
      );
    }
  }
}
