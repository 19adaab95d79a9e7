// The argv of host directories shared with a guest (pure): 9p served by QEMU itself, virtiofs by a virtiofsd.

import { escapeOptionValue } from './options.js';

/** A mount with its transport chosen and, for virtiofs, its virtiofsd's socket. */
export type Share =
  | { transport: '9p'; tag: string; path: string; readOnly: boolean }
  | { transport: 'virtiofs'; tag: string; socket: string };

/** virtiofsd maps guest RAM, so it must live on a shared memory backend. */
export const needsSharedMemory = (shares: readonly Share[] | undefined): boolean =>
  (shares ?? []).some((s) => s.transport === 'virtiofs');

/**
 * 9p with security model `none`: files are created as QEMU's user with the modes the guest asks for, and a chown
 * that user may not do is ignored; `readonly=on` makes QEMU refuse every write. virtiofs: a vhost-user device whose
 * backend is the virtiofsd listening on `socket` (read-only is enforced on virtiofsd's side).
 */
export function shareArgs(shares: readonly Share[] | undefined): string[] {
  return (shares ?? []).flatMap((share) => {
    if (share.transport === '9p') {
      const fsdev = [
        'local',
        `id=fs-${share.tag}`,
        `path=${escapeOptionValue(share.path)}`,
        'security_model=none',
        // A share spanning file systems gets distinct inode numbers in the guest.
        'multidevs=remap',
        ...(share.readOnly ? ['readonly=on'] : []),
      ];
      return [
        '-fsdev',
        fsdev.join(','),
        '-device',
        `virtio-9p-pci,fsdev=fs-${share.tag},mount_tag=${share.tag},id=${share.tag}-dev`,
      ];
    }
    return [
      '-chardev',
      `socket,id=vfs-${share.tag},path=${escapeOptionValue(share.socket)}`,
      '-device',
      `vhost-user-fs-pci,chardev=vfs-${share.tag},tag=${share.tag},id=${share.tag}-dev`,
    ];
  });
}
