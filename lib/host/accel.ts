// Deciding KVM or TCG for an arch: by running guest code under KVM and seeing it finish, cached per boot and QEMU.

import { ARCH_TABLE, type Arch, hostArch as detectHostArch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import {
  binaryStamp,
  defaultCacheDir,
  findEntry,
  hostIdentity,
  readAccelCache,
  withEntry,
  writeAccelCache,
} from './accel-cache.js';
import { type BinaryLookupOptions, locateQemu, queryQemu, resolveQemuBinary } from './binaries.js';
import { checkKvmDevice } from './kvm-device.js';
import type { PayloadJudgement, PayloadRun, ProbePayload } from './payload.js';
import { DEFAULT_DEADLINE_MS, DEFAULT_STARTUP_MS, runPayload } from './payload-run.js';
import type { AccelName, AccelVerdict, QemuBinary } from './types.js';

export interface ProbeAccelOptions extends BinaryLookupOptions {
  /** The qemu-system binary to probe with: a path, or a name on PATH; default qemu-system-<arch> on PATH. */
  binary?: string | undefined;
  /** The binary's facts when the caller has them already (only its path is used). */
  qemu?: QemuBinary | undefined;
  /**
   * 'tcg' skips the probe. 'kvm' needs a usable KVM device for the host's own arch, and is refused where the probe
   * (cached, else run now) found guest code hangs under KVM.
   */
  force?: AccelName | undefined;
  /** Ignore the cached verdict and probe again (the new verdict is cached). */
  refresh?: boolean | undefined;
  /** Where accel.json lives; default `${XDG_CACHE_HOME:-~/.cache}/qlaunch`. */
  cacheDir?: string | undefined;
  /** Default /dev/kvm. */
  kvmDevice?: string | undefined;
  /** ms the guest code gets under KVM once it has started; default 1000. */
  deadlineMs?: number | undefined;
  /** ms QEMU gets to start the guest code; default 5000. */
  startupMs?: number | undefined;
}

// QEMU aborts like this on nested hosts that refuse IA32_ARCH_CAPABILITIES; without that feature it runs.
const MSR_FAILURE = /failed to set MSR/;

const tcg = (reason: string, extra: Partial<AccelVerdict> = {}): AccelVerdict => ({
  accel: 'tcg',
  reason,
  cached: false,
  ...extra,
});

/** CPU models to try under KVM, best first. */
export const kvmCpuCandidates = (arch: Arch): [string, ...string[]] => {
  const cpu = ARCH_TABLE[arch].kvmCpu;
  return arch === 'x86_64' ? [cpu, `${cpu},-arch-capabilities`] : [cpu];
};

/** First line of QEMU's stderr, whitespace squeezed and bounded, for a one-line reason. */
const firstLine = (text: string): string =>
  (text.trim().split('\n')[0] ?? '').replace(/\s+/g, ' ').slice(0, 200);

/** Why a payload run under KVM does not count as KVM working: one line. */
export function failureReason(
  run: PayloadRun,
  judgement: PayloadJudgement,
  limits: { deadlineMs: number; startupMs: number },
): string {
  const reached = `last stage reached: ${judgement.lastStage ?? 'none'}`;
  if (run.killed === 'startup')
    return `QEMU did not start guest code under KVM within ${limits.startupMs} ms`;
  if (run.killed === 'deadline') {
    return `guest code did not finish under KVM within ${limits.deadlineMs} ms (${reached}): paravirtual or broken KVM`;
  }
  const how = run.signal
    ? `was killed by ${run.signal}`
    : run.exitCode === undefined
      ? 'could not be run'
      : `exited with status ${run.exitCode}`;
  const stderr = firstLine(run.stderr);
  return `guest code did not finish under KVM: QEMU ${how} (${reached})${stderr ? `: ${stderr}` : ''}`;
}

interface FreshVerdict {
  verdict: AccelVerdict;
  /** False when the failure says more about this moment (a loaded host) than about KVM. */
  cacheable: boolean;
  kvmCpu?: string | undefined;
}

/** Runs the payload under KVM with the first CPU model, moving to the next while QEMU refuses to set an MSR. */
async function runWithFallback(
  payload: ProbePayload,
  [cpu, ...rest]: readonly [string, ...string[]],
  binary: string,
  limits: { deadlineMs: number; startupMs: number },
): Promise<{ cpu: string; run: PayloadRun }> {
  const run = await runPayload(payload, { binary, accel: 'kvm', cpu, ...limits });
  const [next, ...others] = rest;
  if (next === undefined || !MSR_FAILURE.test(run.stderr)) return { cpu, run };
  return runWithFallback(payload, [next, ...others], binary, limits);
}

async function runUnderKvm(arch: Arch, binary: string, options: ProbeAccelOptions): Promise<FreshVerdict> {
  // The payload builders load only when a probe really runs, not on every cached `qlaunch run`.
  const { judgeRun, payloadFor } = await import('./payload.js');
  const payload = payloadFor(arch);
  if (!payload) {
    return {
      verdict: tcg(`qlaunch has no KVM probe for ${arch} hosts; use --accel kvm to insist`),
      cacheable: false,
    };
  }
  const limits = {
    deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINE_MS,
    startupMs: options.startupMs ?? DEFAULT_STARTUP_MS,
  };
  const { cpu, run } = await runWithFallback(payload, kvmCpuCandidates(arch), binary, limits);
  const judgement = judgeRun(payload, run);
  if (judgement.completed) {
    const reason = `guest code ran under KVM in ${run.elapsedMs} ms (reached ${judgement.lastStage})`;
    return { verdict: { accel: 'kvm', cpu, reason, cached: false }, cacheable: true, kvmCpu: cpu };
  }
  return {
    verdict: tcg(failureReason(run, judgement, limits)),
    cacheable: run.killed !== 'startup',
    // QEMU accepted this CPU model if guest code ran at all.
    kvmCpu: judgement.lastStage === undefined ? undefined : cpu,
  };
}

/**
 * The accelerator for `arch` guests on this host, with the CPU model to use and a one-line reason.
 * Throws HOST_ACCEL_UNAVAILABLE when KVM is forced where it cannot work (or the probe found it hangs),
 * HOST_QEMU_MISSING when QEMU is missing.
 */
export async function probeAccel(arch: Arch, options: ProbeAccelOptions = {}): Promise<AccelVerdict> {
  if (options.force === 'tcg') return tcg('forced by the user', { forced: true });
  const host = detectHostArch();
  const unusable = (reason: string): AccelVerdict => {
    if (options.force !== 'kvm') return tcg(reason);
    throw new QlaunchError(
      ErrorCode.HOST_ACCEL_UNAVAILABLE,
      `KVM was asked for but cannot run ${arch} guests here: ${reason}`,
      {
        hint: 'drop --accel kvm (or use --accel tcg) to run under emulation',
      },
    );
  };
  if (arch !== host) return unusable(`guest arch ${arch} differs from host arch ${host ?? process.arch}`);
  const device = await checkKvmDevice(options.kvmDevice);
  if (!device.accessible) return unusable(device.problem ?? `${device.path} unusable`);

  const binary =
    options.qemu?.path ??
    (options.binary === undefined
      ? await locateQemu(arch, options)
      : await resolveQemuBinary(options.binary, options));
  const key = { arch, ...(await hostIdentity()), qemuPath: binary, qemuStamp: await binaryStamp(binary) };
  const dir = options.cacheDir ?? defaultCacheDir(options.env);
  const entries = await readAccelCache(dir);
  const hit = options.refresh ? undefined : findEntry(entries, key);
  if (hit && options.force !== 'kvm') return { ...hit.verdict, cached: true };

  // What the probe knows: a cached verdict, else one found now (and cached, if it says something lasting about KVM).
  let known = hit;
  if (!known) {
    const fresh = await runUnderKvm(arch, binary, options);
    if (fresh.cacheable && (options.qemu !== undefined || (await isQemu(arch, binary, fresh)))) {
      const { cached: _, ...verdict } = fresh.verdict;
      known = { key, verdict, kvmCpu: fresh.kvmCpu, probedAt: new Date().toISOString() };
      // The verdict stands even if it cannot be remembered (read-only home): the next run just probes again.
      await writeAccelCache(dir, withEntry(entries, known)).catch(() => {});
    }
    if (options.force !== 'kvm') return fresh.verdict;
  }
  // Under KVM the probe saw hang, a guest would hang too, silently: refused rather than started.
  if (known?.verdict.accel === 'tcg') throw brokenKvm(arch, known.verdict.reason);
  const cpu = known?.kvmCpu ?? ARCH_TABLE[arch].kvmCpu;
  return { accel: 'kvm', cpu, reason: 'forced by the user', cached: false, forced: true };
}

/** A verdict only counts from a binary that proved to be QEMU: it ran the guest code, or it reports a QEMU version. */
async function isQemu(arch: Arch, binary: string, fresh: FreshVerdict): Promise<boolean> {
  if (fresh.verdict.accel === 'kvm' || fresh.kvmCpu !== undefined) return true;
  return queryQemu(arch, binary).then(
    () => true,
    () => false,
  );
}

const brokenKvm = (arch: Arch, reason: string): QlaunchError =>
  new QlaunchError(
    ErrorCode.HOST_ACCEL_UNAVAILABLE,
    `KVM was asked for, but the KVM probe found it does not run ${arch} guests on this host: a guest would hang`,
    {
      hint: `the probe: ${reason}; use --accel tcg (accel: 'tcg'), or run \`qlaunch doctor --refresh\` once KVM is fixed; to run under KVM anyway, give launch() accel: { accel: 'kvm' } (it skips the probe)`,
    },
  );
