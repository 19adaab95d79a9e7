// An instance's internal snapshots: live over the running guest's QMP session, else in its stopped overlay.

import { ROOT_DISK_NODE } from '../cloud/recipe.js';
import type { SnapshotInfo } from '../guest/snapshot/snapshot-info.js';
import type { Logger } from '../logger.js';
import type { QmpClient } from '../qmp/index.js';
import { type InstanceContext, openSession, withGuest } from './session.js';
import { readSnapshotOrigins, recordSnapshotOrigin } from './snapshot-origins.js';

const live = () => import('../guest/snapshot/snapshot.js');
const offline = () => import('../guest/snapshot/snapshot-offline.js');
const origins = () => import('../guest/snapshot/snapshot-origin.js');

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
  const { snapshotOrigin } = await origins();
  const { info, origin } = await withGuest(instance, 'snapshot', log, async (guest) => ({
    info: await saveSnapshot(guest.qmp, { tag, nodes: [ROOT_DISK_NODE], ...options }),
    origin: await snapshotOrigin(guest.qmp),
  }));
  // Loading it is checked against this: RAM and device state only load on the machine type and QEMU that saved them.
  await recordSnapshotOrigin(instance.paths.snapshotOrigins, tag, origin);
  log.info({ snapshot: info, origin }, 'snapshot saved');
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
    async (qmp) => {
      // Refused before QEMU is asked: a load across machine types or QEMU releases fails part-way, VM paused.
      // Snapshots saved before records were kept have none, and load unchecked.
      const saved = (await readSnapshotOrigins(instance.paths.snapshotOrigins))[tag];
      if (saved !== undefined) {
        const { checkSnapshotOrigin, snapshotOrigin } = await origins();
        checkSnapshotOrigin(tag, saved, await snapshotOrigin(qmp));
      }
      return (await live()).loadSnapshot(qmp, { tag, nodes: [ROOT_DISK_NODE], ...options });
    },
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
  await recordSnapshotOrigin(instance.paths.snapshotOrigins, tag, undefined);
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
