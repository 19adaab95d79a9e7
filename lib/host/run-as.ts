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

/** The uid and primary gid `/etc/passwd` (its text) gives `user`, the ids `-runas USER` drops to (pure). */
export function userIdsIn(passwd: string, user: string): { uid: number; gid: number } | undefined {
  const fields = passwd
    .split('\n')
    .find((line) => line.split(':')[0] === user)
    ?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  return fields && Number.isInteger(uid) && Number.isInteger(gid) && fields[2] !== '' && fields[3] !== ''
    ? { uid, gid }
    : undefined;
}

/** The ids of the user QEMU runs as under `-runas USER`; undefined when /etc/passwd does not list it. */
export async function userIds(
  user: string,
  passwdPath = '/etc/passwd',
): Promise<{ uid: number; gid: number } | undefined> {
  return userIdsIn(await readFile(passwdPath, 'utf8').catch(() => ''), user);
}
