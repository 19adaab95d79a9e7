// An instance's internal snapshots: live over the running guest's QMP session, else in its stopped overlay.

import { ROOT_DISK_NODE } from '../cloud/recipe.js';
import type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
import type { Logger } from '../logger.js';
import type { QmpClient } from '../qmp/index.js';
import { type InstanceContext, openSession, withGuest } from './session.js';

const live = () => import('../guest/snapshot/snapshot.js');
const offline = () => import('../guest/snapshot/snapshot-offline.js');

/** `running` over one QMP session when QEMU runs, else `stopped` on the overlay. */
async function onDisk<T>(
  instance: InstanceContext,
  log: Logger,
  running: (qmp: QmpClient) => Promise<T>,
  stopped: () => Promise<T>,
): Promise<T> {
  const { status, guest } = await openSession(instance, log);
  try {
    if (guest && (status.state === 'running' || status.state === 'paused')) return await running(guest.qmp);
  } finally {
    guest?.detach();
  }
  return stopped();
}

/** Save the running guest (RAM, devices, disk) as snapshot `tag` (caller holds the lock). */
export async function save(
  instance: InstanceContext,
  tag: string,
  options: { replace?: boolean | undefined; timeout?: number | undefined },
  log: Logger,
): Promise<SnapshotInfo> {
  const { saveSnapshot } = await live();
  const info = await withGuest(instance, 'snapshot', log, (guest) =>
    saveSnapshot(guest.qmp, { tag, nodes: [ROOT_DISK_NODE], ...options }),
  );
  log.info({ snapshot: info }, 'snapshot saved');
  return info;
}

export async function load(
  instance: InstanceContext,
  tag: string,
  options: { timeout?: number | undefined },
  log: Logger,
): Promise<SnapshotInfo> {
  const info = await onDisk(
    instance,
    log,
    async (qmp) => (await live()).loadSnapshot(qmp, { tag, nodes: [ROOT_DISK_NODE], ...options }),
    async () => (await offline()).loadSnapshotOffline(instance.paths.overlay, tag),
  );
  log.info({ snapshot: info }, 'snapshot loaded');
  return info;
}

export async function remove(instance: InstanceContext, tag: string, log: Logger): Promise<void> {
  await onDisk(
    instance,
    log,
    async (qmp) => (await live()).deleteSnapshot(qmp, { tag, nodes: [ROOT_DISK_NODE] }),
    async () => (await offline()).deleteSnapshotOffline(instance.paths.overlay, tag),
  );
  log.info({ tag }, 'snapshot deleted');
}

export function list(instance: InstanceContext, log: Logger): Promise<SnapshotInfo[]> {
  return onDisk(
    instance,
    log,
    async (qmp) => (await live()).listSnapshots(qmp, ROOT_DISK_NODE),
    async () => (await offline()).listSnapshotsOffline(instance.paths.overlay),
  );
}
