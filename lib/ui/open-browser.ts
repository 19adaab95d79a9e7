// `--open`: hand the URL to the desktop's opener, when there is one; none is not an error (the URL is printed).

import { execa } from 'execa';

/** The program that opens a URL in the user's browser here (pure). */
export const openerFor = (platform: NodeJS.Platform): string =>
  platform === 'darwin' ? 'open' : platform === 'win32' ? 'explorer' : 'xdg-open';

/** Try to open `url`; false when no opener ran (no desktop, none installed). */
export async function openBrowser(
  url: string,
  platform: NodeJS.Platform = process.platform,
): Promise<boolean> {
  try {
    // The URL is one argument, never a shell word; the opener outlives nothing of ours.
    const child = execa(openerFor(platform), [url], { detached: true, stdio: 'ignore', reject: false });
    child.unref();
    const result = await Promise.race([
      child,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 2000).unref()),
    ]);
    return result === undefined || (result.exitCode === 0 && !result.failed);
  } catch {
    return false;
  }
}
