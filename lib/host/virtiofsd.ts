// Finding virtiofsd through QEMU's vhost-user descriptors (docs/interop/vhost-user.json), as libvirt does.

import { constants } from 'node:fs';
import { access, readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Per-user, then sysadmin, then distro descriptors: highest priority first. */
export function defaultVhostUserDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const xdg = env['XDG_CONFIG_HOME'];
  const config = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  return [join(config, 'qemu', 'vhost-user'), '/etc/qemu/vhost-user', '/usr/share/qemu/vhost-user'];
}

/** The binary of a vhost-user descriptor's text when it is a filesystem backend (`"type": "fs"`), else undefined. */
export function fsBackendOf(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as { type?: unknown; binary?: unknown };
    return value.type === 'fs' && typeof value.binary === 'string' && isAbsolute(value.binary)
      ? value.binary
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The first executable virtiofsd the descriptors name, in priority order (a file name in a higher directory hides
 * the same name below it, as for firmware descriptors); undefined when none is installed.
 */
export async function findVirtiofsd(
  dirs: readonly string[] = defaultVhostUserDirs(),
): Promise<string | undefined> {
  const seen = new Set<string>();
  const files: string[] = [];
  for (const dir of dirs) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      files.push(join(dir, name));
    }
  }
  files.sort((a, b) => (a.split('/').pop() ?? '').localeCompare(b.split('/').pop() ?? ''));
  for (const file of files) {
    const binary = fsBackendOf(await readFile(file, 'utf8').catch(() => ''));
    if (
      binary &&
      (await access(binary, constants.X_OK).then(
        () => true,
        () => false,
      ))
    )
      return binary;
  }
  return undefined;
}
