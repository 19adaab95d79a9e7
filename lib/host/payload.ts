// KVM probe payloads by architecture, the QEMU argv that runs one, and what a run's output means: pure.

import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { aarch64Payload } from './payload-aarch64.js';
import type { ProbePayload } from './payload-types.js';
import { x86_64Payload } from './payload-x86_64.js';
import type { AccelName } from './types.js';

export type { ProbePayload } from './payload-types.js';

// riscv64 hosts with KVM are rare and untestable here; without a payload they get TCG with a reason.
const PAYLOADS: Partial<Record<Arch, ProbePayload>> = { x86_64: x86_64Payload, aarch64: aarch64Payload };

/** The probe payload for guests of `arch`, or undefined when qlaunch has none. */
export const payloadFor = (arch: Arch): ProbePayload | undefined => PAYLOADS[arch];

export interface PayloadAccel {
  accel: AccelName;
  cpu: string;
}

/** qemu-system arguments that run `payload` (written to `file`) on the arch table's machine type. */
export function payloadArgv(payload: ProbePayload, file: string, { accel, cpu }: PayloadAccel): string[] {
  const info = ARCH_TABLE[payload.arch];
  return [
    ...['-machine', [info.machine, ...info.machineOptions].join(',')],
    ...['-accel', accel, '-cpu', cpu, '-m', String(payload.memoryMiB)],
    ...['-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio'],
    // A triple fault must end the run, not restart the code from reset forever.
    '-no-reboot',
    ...payload.loadArgs(file),
  ];
}

/** What happened to one QEMU run of a payload. */
export interface PayloadRun {
  exitCode: number | undefined;
  signal: string | undefined;
  /** The guest's serial output. */
  stdout: string;
  stderr: string;
  /** Set when qlaunch killed QEMU: no serial byte within the startup limit, or no exit within the deadline. */
  killed: 'startup' | 'deadline' | undefined;
  /** From spawn to exit. */
  elapsedMs: number;
}

export interface PayloadJudgement {
  completed: boolean;
  /** The furthest stage whose marker the guest wrote, in order; undefined when it wrote none. */
  lastStage: string | undefined;
}

/** Completed means: every stage marker in order, then QEMU's exit with the payload's own status. */
export function judgeRun(payload: ProbePayload, run: PayloadRun): PayloadJudgement {
  let lastStage: string | undefined;
  let from = 0;
  let allStages = true;
  for (const stage of payload.stages) {
    const at = run.stdout.indexOf(stage.marker, from);
    if (at < 0) {
      allStages = false;
      break;
    }
    lastStage = stage.name;
    from = at + 1;
  }
  const completed = allStages && run.killed === undefined && run.exitCode === payload.exitStatus;
  return { completed, lastStage };
}
