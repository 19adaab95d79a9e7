// Where the page's files are: its own next to this module (copied to dist by the build), the terminal's in the
// npm packages it comes from.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATIC_FILES, type StaticPath } from './routes.js';

const require = createRequire(import.meta.url);
const assetsDir = fileURLToPath(new URL('./assets/', import.meta.url));

/** The path of a page file on disk. */
export function staticFilePath(path: StaticPath): string {
  const { pkg, file } = STATIC_FILES[path];
  if (pkg === 'self') return join(assetsDir, file);
  return join(dirname(require.resolve(`${pkg}/package.json`)), file);
}

export const readPage = (): Promise<Buffer> => readFile(join(assetsDir, 'index.html'));

export const readStatic = (path: StaticPath): Promise<Buffer> => readFile(staticFilePath(path));

// The package exports only core/rfb.js; its other modules sit beside it, two levels under the package root.
const novncRoot = (): string => dirname(dirname(require.resolve('@novnc/novnc')));

/** One of noVNC's modules (`file` as routes.ts admits it: under core/ or vendor/pako/lib/, no `..`). */
export const readNovnc = (file: string): Promise<Buffer> => readFile(join(novncRoot(), file));
