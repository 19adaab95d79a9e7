// Where qlaunch keeps its data (QLAUNCH_HOME, else the XDG data dir) and where the image store lives in it: pure.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';

/**
 * qlaunch's data directory: `$QLAUNCH_HOME`, else `$XDG_DATA_HOME/qlaunch`, else `~/.local/share/qlaunch`.
 * A relative XDG_DATA_HOME is ignored, as the XDG spec says; a relative QLAUNCH_HOME is taken from the cwd.
 */
export function qlaunchHome(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['QLAUNCH_HOME'];
  if (own) return resolve(own);
  const xdg = env['XDG_DATA_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'qlaunch');
  return join(env['HOME'] || homedir(), '.local', 'share', 'qlaunch');
}

/** The base image store: `<qlaunch home>/images`. */
export const imageStoreDir = (env: NodeJS.ProcessEnv = process.env): string =>
  join(qlaunchHome(env), 'images');

/**
 * A file (or anything but a directory) at `path`, where qlaunch keeps `holds` (its instances, an image, …): not
 * ours to delete, so the error says what it is and how to move it aside by hand.
 */
export function notADirectory(path: string, holds: string, outOfTheWay: string): QlaunchError {
  return new QlaunchError(
    ErrorCode.PATH_NOT_DIRECTORY,
    `${path} is a file, not a directory: qlaunch keeps ${holds} there`,
    {
      hint: `qlaunch does not delete files it did not make: look at it, then move it elsewhere or delete it yourself (${outOfTheWay})`,
    },
  );
}
