// The user a QEMU started by root drops to: a dedicated system user when the host has one, else nobody.

import { readFile } from 'node:fs/promises';

/** Best first: qlaunch's own, libvirt's (Debian), then nobody. */
const RUN_AS_USERS = ['qlaunch', 'libvirt-qemu', 'nobody'] as const;

/** The first of the run-as users that /etc/passwd (its text) lists, if any (pure). */
export function chooseRunAsUser(passwd: string): string | undefined {
  const names = new Set(passwd.split('\n').map((line) => line.split(':')[0]));
  return RUN_AS_USERS.find((name) => names.has(name));
}

/** The user QEMU runs as when qlaunch runs as root; undefined when the host has none of them. */
export async function runAsUser(passwdPath = '/etc/passwd'): Promise<string | undefined> {
  return chooseRunAsUser(await readFile(passwdPath, 'utf8').catch(() => ''));
}

export const runningAsRoot = (): boolean => process.getuid?.() === 0;
