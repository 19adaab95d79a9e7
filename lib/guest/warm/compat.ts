// Whether a warm image can be restored on this host: the same QEMU, accelerator, CPU model and machine type it was
// saved with (a device state stream loads only into the device tree that wrote it). Pure.

import { ErrorCode, QlaunchError } from '../../errors.js';
import type { MachineType } from '../../host/machines.js';
import type { WarmRecord } from './record.js';

/** What this host would restore with. */
export interface WarmHost {
  /** The version of the qemu-system binary that would run, e.g. "7.2.22". */
  qemuVersion: string;
  accel: 'kvm' | 'tcg';
  cpuModel: string;
  /** The machine types the binary offers; empty when it could not say. */
  machines: readonly MachineType[];
}

/** Throws WARM_INCOMPATIBLE naming the first fact that differs; `where` names the warm image. */
export function checkWarmCompat(record: WarmRecord, host: WarmHost, where: string): void {
  const differs = (what: string, saved: string, now: string) =>
    new QlaunchError(
      ErrorCode.WARM_INCOMPATIBLE,
      `warm image ${where} was saved with ${what} ${saved}, but this host has ${now}`,
      {
        hint: 'warm it again on this host (a saved machine only restores on the QEMU and CPU it was saved with)',
      },
    );
  if (record.qemu.version !== host.qemuVersion) {
    throw differs('QEMU', record.qemu.version, `QEMU ${host.qemuVersion}`);
  }
  if (record.accel !== host.accel) throw differs('accelerator', record.accel, host.accel);
  if (record.cpuModel !== host.cpuModel) throw differs('CPU model', record.cpuModel, host.cpuModel);
  if (host.machines.length > 0 && !host.machines.some((m) => m.name === record.machineType)) {
    throw differs('machine type', record.machineType, 'no such machine type');
  }
}
