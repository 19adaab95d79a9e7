// qlaunch's own NoCloud vendor-data: a boot-time repair of SSH host keys that a hard power-off left empty.

import { stringify } from 'yaml';

/** The marker `$0` of the repair script, so its line in `ps` or a log says what it is. */
export const SSH_HOST_KEYS_NAME = 'qlaunch-ssh-host-keys';

/**
 * Run by cloud-init's bootcmd on every boot, before sshd starts, as `sh -c SCRIPT NAME ROOT` (ROOT is / in a
 * guest; tests give a directory). A guest killed before it wrote back the keys its first boot generated keeps
 * them as empty files, and sshd refuses to start: remove every empty host key file (with its pair), and make
 * the missing keys again. Keys that are simply absent are only made once cloud-init's ssh module has run for
 * this instance (its semaphore exists); before that, the module makes them itself. A sound boot changes nothing.
 */
export const SSH_HOST_KEYS_SCRIPT = `root=\${1:-/}
ssh=\${root%/}/etc/ssh
sem=\${root%/}/var/lib/cloud/instance/sem/config_ssh
lost=
for file in "$ssh"/ssh_host_*; do
  if [ -f "$file" ] && [ ! -s "$file" ]; then
    rm -f "\${file%.pub}" "\${file%.pub}.pub"
    lost=1
  fi
done
set -- "$ssh"/ssh_host_*_key
if [ -n "$lost" ] || { [ ! -e "$1" ] && [ -e "$sem" ]; }; then
  if [ "$root" = / ]; then set -- -A; else set -- -A -f "$root"; fi
  if ssh-keygen "$@" && sync; then
    echo "qlaunch: remade the SSH host keys that a hard power-off had lost"
  else
    echo "qlaunch: could not remake the SSH host keys in $ssh" >&2
  fi
fi
`;

/** One cloud-init `mounts:` entry: device (a mount tag), mount point, type, options, dump, pass. */
export type FstabEntry = readonly [string, string, string, string, '0', '0'];

/**
 * The vendor-data qlaunch puts in every seed it writes. cloud-init merges user-data over it key by key, so the
 * user's user-data stays as given; a user-data with its own `bootcmd` (or vendor_data disabled) drops the repair,
 * one with its own `mounts` drops the host directories (cloud-init writes them to /etc/fstab, so every boot mounts
 * them again).
 */
export function buildVendorData(mounts: readonly FstabEntry[] = []): string {
  const config = {
    bootcmd: [['sh', '-c', SSH_HOST_KEYS_SCRIPT, SSH_HOST_KEYS_NAME, '/']],
    ...(mounts.length > 0 ? { mounts: mounts.map((m) => [...m]) } : {}),
  };
  return `#cloud-config\n# Written by qlaunch: user-data settings win over these.\n${stringify(config, { lineWidth: 0 })}`;
}
