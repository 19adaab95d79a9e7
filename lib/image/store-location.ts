// Where qlaunch keeps its data (QLAUNCH_HOME, else the XDG data dir) and where the image store lives in it: pure.

import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

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
