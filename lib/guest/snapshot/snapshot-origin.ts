// What a snapshot's RAM and device state needs to load again: the machine type and QEMU release that saved it.

import { ErrorCode, QlaunchError } from '../../errors.js';
import type { QmpClient } from '../../qmp/index.js';

declare module '../../qmp/commands.js' {
  interface QmpCommandMap {
    'qom-get': { args: { path: string; property: string }; result: unknown };
  }
}

/** The QEMU a snapshot was saved by (or a running VM is): `pc-q35-7.2` and `7.2.22`. */
export interface SnapshotOrigin {
  machineType: string;
  qemuVersion: string;
}

/** The running VM's machine type (its QOM type less `-machine`) and QEMU version, asked over QMP. */
export async function snapshotOrigin(qmp: QmpClient): Promise<SnapshotOrigin> {
  const version = await qmp.execute('query-version');
  const type = await qmp.execute('qom-get', { path: '/machine', property: 'type' });
  const { major, minor, micro } = version.qemu;
  return { machineType: String(type).replace(/-machine$/, ''), qemuVersion: `${major}.${minor}.${micro}` };
}

const release = (version: string): string => version.split('.').slice(0, 2).join('.');

/**
 * Refuses to load snapshot `tag` saved on another machine type or QEMU release (pure): QEMU would fail part-way and
 * leave the VM paused. Stable updates (7.2.21 → 7.2.22) keep the state format and pass.
 */
export function checkSnapshotOrigin(tag: string, saved: SnapshotOrigin, running: SnapshotOrigin): void {
  if (
    saved.machineType === running.machineType &&
    release(saved.qemuVersion) === release(running.qemuVersion)
  ) {
    return;
  }
  throw new QlaunchError(
    ErrorCode.VM_SNAPSHOT_INCOMPATIBLE,
    `snapshot '${tag}' was saved on machine type ${saved.machineType} by QEMU ${saved.qemuVersion}; the VM now ` +
      `runs ${running.machineType} on QEMU ${running.qemuVersion}, which cannot load its RAM and device state`,
    {
      hint: 'delete it (`snapshot rm`) and save a new one, or load it under the QEMU release that saved it',
    },
  );
}
