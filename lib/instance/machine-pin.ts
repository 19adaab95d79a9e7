// An instance's machine type, pinned to the versioned type its QEMU offers: chosen at create (or the first start of
// an older instance), checked before every start, moved to this QEMU's only when asked.

import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { MachineCatalog } from '../host/machine-cache.js';
import { machineTypeOf } from '../host/machines.js';
import type { InstanceConfig } from './config.js';

export type MachinePin = NonNullable<InstanceConfig['machineType']>;

export interface PinRequest {
  instance: string;
  arch: Arch;
  /** The type it is pinned to (or a machine file asked for); undefined: pin the arch's alias. */
  pinned?: MachinePin | undefined;
  /** Drop the pin and take what the arch's alias is on this QEMU. */
  repin?: boolean | undefined;
}

const repinHint = (name: string, type: string | undefined): string =>
  `recreate the instance (\`qlaunch rm ${name}\`, then \`qlaunch create\`), or re-pin it${type ? ` to ${type}` : ''} ` +
  `with \`qlaunch start ${name} --repin\` (its internal snapshots then no longer load)`;

/** The type to start `request.instance` with on the QEMU `catalog` describes (pure); a type it lacks is refused. */
export function choosePin(request: PinRequest, catalog: MachineCatalog): MachinePin {
  const alias = ARCH_TABLE[request.arch].machine;
  const keep = request.pinned !== undefined && !request.repin;
  const wanted = keep ? (request.pinned?.name ?? alias) : alias;
  const type = machineTypeOf(wanted, catalog.machines);
  if (type === undefined && keep) {
    const by = request.pinned?.qemuVersion ? ` (pinned under QEMU ${request.pinned.qemuVersion})` : '';
    throw new QlaunchError(
      ErrorCode.MACHINE_TYPE_UNAVAILABLE,
      `instance ${request.instance} runs on machine type ${wanted}${by}, which QEMU ${catalog.qemuVersion} ` +
        `(${catalog.qemuPath}) does not offer`,
      { hint: repinHint(request.instance, machineTypeOf(alias, catalog.machines)) },
    );
  }
  if (type === undefined) {
    throw new QlaunchError(
      ErrorCode.MACHINE_TYPE_UNAVAILABLE,
      `QEMU ${catalog.qemuVersion} (${catalog.qemuPath}) offers no ${alias} machine for ${request.arch} guests`,
      { hint: `reinstall it: apt-get install --reinstall ${ARCH_TABLE[request.arch].debianPackage}` },
    );
  }
  const qemuVersion = keep && request.pinned?.qemuVersion ? request.pinned.qemuVersion : catalog.qemuVersion;
  return { name: type, qemuVersion };
}

/** Whether a start changes what the config records (a first pin, a re-pin, an alias resolved). */
export const pinChanged = (before: MachinePin | undefined, after: MachinePin): boolean =>
  before?.name !== after.name || before.qemuVersion !== after.qemuVersion;
