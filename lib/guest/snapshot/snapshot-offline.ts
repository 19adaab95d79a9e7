// Internal snapshots of a stopped VM's qcow2 disk, through qemu-img: list, delete, and (disk only) revert.

import { resolve } from 'node:path';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { requireQemuImg } from '../../host/binaries.js';
import { escapeOptionValue } from '../../qemu/options.js';
import { checkSnapshotTag, parseSnapshotList, type SnapshotInfo } from './snapshot-info.js';

export interface OfflineLoadOptions {
  /**
   * Revert only the disk (`qemu-img snapshot -a`): the guest then boots cold from the disk as it was, like after
   * a power cut at that moment. Without it, loading a stopped VM is refused: RAM state needs a running QEMU.
   */
  diskOnly?: boolean | undefined;
}

interface Run {
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function qemuImg(args: string[]): Promise<Run> {
  const { path } = await requireQemuImg();
  const { execa } = await import('execa');
  const result = await execa(path, args, { reject: false, stdin: 'ignore', env: { LC_ALL: 'C' } });
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout),
    stderr:
      String(result.stderr)
        .trim()
        .split('\n')
        .slice(0, 3)
        .join('\n')
        .replace(/^qemu-img: /, '') ||
      (result.shortMessage ?? ''),
  };
}

/** The image as qemu-img's --image-opts: the format is stated, never probed (`qemu-img snapshot` has no -f). */
const imageOpts = (qcow2Path: string): string =>
  `driver=qcow2,file.driver=file,file.filename=${escapeOptionValue(qcow2Path)}`;

const failed = (what: string, run: Run): QlaunchError => {
  // qemu-img takes the image's write lock for changes; a running QEMU holds it.
  const locked = /lock/i.test(run.stderr);
  return new QlaunchError(ErrorCode.VM_SNAPSHOT, `${what} failed: ${run.stderr}`, {
    hint: locked
      ? 'a running VM holds the disk: stop it first, or use the running VM (deleteSnapshot/loadSnapshot over QMP)'
      : 'check that the file is a readable, writable qcow2 image',
  });
};

/** The snapshots inside a qcow2 file, oldest first. Reads with --force-share, so it also works while a VM runs. */
export async function listSnapshotsOffline(qcow2Path: string): Promise<SnapshotInfo[]> {
  // Absolute: qemu-img would read a relative `name:…` as a protocol.
  const run = await qemuImg(['info', '--output=json', '--force-share', '-f', 'qcow2', resolve(qcow2Path)]);
  if (run.exitCode !== 0) throw failed(`listing the snapshots of ${qcow2Path}`, run);
  let info: { snapshots?: unknown };
  try {
    info = JSON.parse(run.stdout) as { snapshots?: unknown };
  } catch (cause) {
    throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `qemu-img info printed no JSON for ${qcow2Path}`, {
      hint: 'check the qemu-utils installation (apt-get install --reinstall qemu-utils)',
      cause,
    });
  }
  return parseSnapshotList(info.snapshots, qcow2Path);
}

/** Looks `tag` up first: qemu-img would also take an all-digit tag as an id, and says little when none matches. */
async function requireSnapshot(qcow2Path: string, tag: string): Promise<SnapshotInfo> {
  const found = (await listSnapshotsOffline(qcow2Path)).find((s) => s.tag === tag);
  if (found !== undefined) return found;
  throw new QlaunchError(ErrorCode.VM_SNAPSHOT_NOT_FOUND, `no snapshot '${tag}' in ${qcow2Path}`, {
    hint: '`snapshot ls` lists the snapshots (listSnapshotsOffline() in the library)',
  });
}

/** Deletes snapshot `tag` from a qcow2 file that no running VM holds. */
export async function deleteSnapshotOffline(qcow2Path: string, tag: string): Promise<void> {
  checkSnapshotTag(tag);
  await requireSnapshot(qcow2Path, tag);
  const run = await qemuImg(['snapshot', '-q', '-d', tag, '--image-opts', imageOpts(qcow2Path)]);
  if (run.exitCode !== 0) throw failed(`deleting snapshot '${tag}' from ${qcow2Path}`, run);
}

/**
 * Loading a snapshot into a stopped VM: refused unless `diskOnly`, because the RAM and device state can only be
 * restored by a running QEMU (start the VM, then load). With `diskOnly`, the disk is reverted to the snapshot.
 */
export async function loadSnapshotOffline(
  qcow2Path: string,
  tag: string,
  options: OfflineLoadOptions = {},
): Promise<SnapshotInfo> {
  checkSnapshotTag(tag);
  const snapshot = await requireSnapshot(qcow2Path, tag);
  if (!options.diskOnly) {
    throw new QlaunchError(
      ErrorCode.VM_SNAPSHOT,
      `snapshot '${tag}' of ${qcow2Path} cannot be loaded while the VM is stopped: its RAM state needs a running QEMU`,
      { hint: 'start the VM, then load the snapshot; or revert only the disk (diskOnly) and boot it cold' },
    );
  }
  const run = await qemuImg(['snapshot', '-q', '-a', tag, '--image-opts', imageOpts(qcow2Path)]);
  if (run.exitCode !== 0) throw failed(`reverting ${qcow2Path} to snapshot '${tag}'`, run);
  return snapshot;
}
