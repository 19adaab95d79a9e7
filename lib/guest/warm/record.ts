// warm.json: what a warm image was saved from (QEMU, machine type, CPU, devices, disk layers, SSH identity), derived
// from the argv plan the guest was launched with, and read back checked. Pure.

import { isAbsolute, join } from 'node:path';
import { ARCH_TABLE, ARCHES, type Arch } from '../../arch/table.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { ResolvedMachine } from '../../machine/resolve.js';
import type { VmSpec } from '../../machine/spec.js';
import { type ArgvPlan, buildQemuArgv } from '../../qemu/argv.js';

export const WARM_RECORD_SCHEMA = 1;

/** One disk layer, top first: the warm image's own file (relative) or the base it stands on (absolute). */
export interface WarmLayer {
  path: string;
  format: string;
}

export interface WarmRecord {
  schema: 1;
  /** When it was saved, ISO 8601. */
  saved: string;
  arch: Arch;
  qemu: { binary: string; version: string };
  accel: 'kvm' | 'tcg';
  /** The versioned machine type the alias stood for when it was saved (`q35` → `pc-q35-7.2`). */
  machineType: string;
  cpuModel: string;
  cpus: number;
  memoryMiB: number;
  /** The spec it ran with; disk paths and forwards are per run and replaced by a clone's. */
  spec: VmSpec;
  /** The argv with every per-run part (sockets, disks, RAM file, GUID, forwards) replaced: the device tree. */
  devices: string[];
  /** The disk chain, top first: the layer (relative to the image's directory), then its base. */
  layers: WarmLayer[];
  /** Whether it has a VM generation ID device (every clone gets a new GUID). */
  vmgenid: boolean;
  /** The client key's file name, and the guest's SSH host keys (`TYPE BASE64`, pinned for every clone). */
  ssh: { user: string; key: string; hostKeys: string[] };
  machine: ResolvedMachine;
  /** Bytes of the device state stream and of the RAM file actually allocated. */
  stateBytes: number;
  ramBytes: number;
  /** Guest TCP ports every clone forwards from a free host port (the ones it was warmed with, but SSH's). */
  ports?: number[] | undefined;
}

/** What the save adds to the launched guest's argv plan. */
export interface WarmFacts {
  saved: Date;
  qemuVersion: string;
  machineType: string;
  layers: WarmLayer[];
  ssh: WarmRecord['ssh'];
  machine: ResolvedMachine;
  stateBytes: number;
  ramBytes: number;
}

/** The CPU model an accelerator choice runs an arch with. */
export const cpuModelOf = (arch: Arch, accel: ArgvPlan['accel']): string =>
  accel.cpu ?? (accel.accel === 'kvm' ? ARCH_TABLE[arch].kvmCpu : ARCH_TABLE[arch].tcgCpu);

/** The argv of `plan` on `machineType` with every per-run part replaced by a placeholder. */
export function deviceList(plan: ArgvPlan, machineType: string): string[] {
  const spec: VmSpec = {
    ...plan.spec,
    machineType,
    disks: plan.spec.disks.map((disk, i) => ({ ...disk, path: `<disk${i}>` })),
    network: { ...plan.spec.network, forwards: [] },
  };
  return buildQemuArgv({
    ...plan,
    spec,
    qmpSocket: '<qmp>',
    serialSocket: '<serial>',
    serialLog: undefined,
    pidFile: undefined,
    incoming: undefined,
    // How QEMU is confined is each run's own (root or not, opt-outs): no part of the device tree.
    confinement: undefined,
    guestAgentSocket: plan.guestAgentSocket === undefined ? undefined : '<qga>',
    memoryFile: plan.memoryFile && { path: '<ram>', share: false },
    vmgenid: plan.vmgenid && '<guid>',
  }).args;
}

/** The absolute path of the image's own disk layer: the first of the chain (parseWarmRecord requires one). */
export function warmLayerPath(record: WarmRecord, dir: string): string {
  const [own] = record.layers as [WarmLayer, ...WarmLayer[]];
  return isAbsolute(own.path) ? own.path : join(dir, own.path);
}

/** The record of a guest launched with `plan` and saved as `facts` say. */
export function warmRecordOf(plan: ArgvPlan, facts: WarmFacts): WarmRecord {
  const { spec } = plan;
  return {
    schema: WARM_RECORD_SCHEMA,
    saved: facts.saved.toISOString(),
    arch: spec.arch,
    qemu: { binary: plan.binary, version: facts.qemuVersion },
    accel: plan.accel.accel,
    machineType: facts.machineType,
    cpuModel: cpuModelOf(spec.arch, plan.accel),
    cpus: spec.cpus,
    memoryMiB: spec.memoryMiB,
    spec: { ...spec, network: { ...spec.network, forwards: [] } },
    devices: deviceList(plan, facts.machineType),
    layers: facts.layers,
    vmgenid: plan.vmgenid !== undefined,
    ssh: facts.ssh,
    machine: facts.machine,
    stateBytes: facts.stateBytes,
    ramBytes: facts.ramBytes,
    ports: [
      ...new Set(
        spec.network.forwards
          .filter((f) => f.protocol === 'tcp' && f.guestPort !== 22)
          .map((f) => f.guestPort),
      ),
    ],
  };
}

const invalid = (where: string, what: string) =>
  new QlaunchError(ErrorCode.WARM_INVALID, `warm image record ${where}: ${what}`, {
    hint: 'warm it again (the record is written by qlaunch and not meant to be edited)',
  });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** warm.json's text as a record, or WARM_INVALID naming the first field that is wrong (never its content). */
export function parseWarmRecord(text: string, where: string): WarmRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid(where, 'is not JSON');
  }
  if (!isObject(value)) throw invalid(where, 'is not an object');
  if (value['schema'] !== WARM_RECORD_SCHEMA) {
    throw invalid(where, `has schema ${JSON.stringify(value['schema'])}, not ${WARM_RECORD_SCHEMA}`);
  }
  const need = (ok: boolean, field: string) => {
    if (!ok) throw invalid(where, `field ${field} is missing or malformed`);
  };
  const str = (v: unknown) => typeof v === 'string' && v !== '';
  const qemu = value['qemu'];
  const ssh = value['ssh'];
  const spec = value['spec'];
  need(ARCHES.includes(value['arch'] as Arch), 'arch');
  need(isObject(qemu) && str(qemu['binary']) && str(qemu['version']), 'qemu');
  need(value['accel'] === 'kvm' || value['accel'] === 'tcg', 'accel');
  for (const field of ['saved', 'machineType', 'cpuModel']) need(str(value[field]), field);
  for (const field of ['cpus', 'memoryMiB', 'stateBytes', 'ramBytes']) {
    need(Number.isSafeInteger(value[field]) && (value[field] as number) >= 0, field);
  }
  need(isObject(spec) && Array.isArray(spec['disks']) && isObject(spec['network']), 'spec');
  need(Array.isArray(value['devices']) && value['devices'].every((d) => typeof d === 'string'), 'devices');
  const layers = value['layers'];
  need(
    Array.isArray(layers) &&
      layers.length >= 1 &&
      layers.every((l) => isObject(l) && str(l['path']) && str(l['format'])),
    'layers',
  );
  need(typeof value['vmgenid'] === 'boolean', 'vmgenid');
  need(
    isObject(ssh) &&
      str(ssh['user']) &&
      str(ssh['key']) &&
      Array.isArray(ssh['hostKeys']) &&
      ssh['hostKeys'].every((k) => typeof k === 'string'),
    'ssh',
  );
  need(isObject(value['machine']), 'machine');
  const ports = value['ports'];
  need(
    ports === undefined ||
      (Array.isArray(ports) && ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)),
    'ports',
  );
  return value as unknown as WarmRecord;
}
