// Which QEMU binary and accelerator a spec runs with on this host: probed (and cached) unless the caller says.

import { probeAccel } from '../host/accel.js';
import { locateQemu } from '../host/binaries.js';
import type { VmSpec } from '../machine/spec.js';
import type { AccelChoice } from '../qemu/argv.js';

export interface HostChoice {
  binary: string;
  accel: AccelChoice;
}

/** Cheap on the hot path: a PATH lookup and, for `auto`, the cached verdict (QEMU is not run to ask its version). */
export async function resolveHost(
  spec: VmSpec,
  options: { binary?: string | undefined; accel?: AccelChoice | undefined; cacheDir?: string | undefined },
): Promise<HostChoice> {
  const binary = options.binary ?? (await locateQemu(spec.arch));
  if (options.accel) return { binary, accel: options.accel };
  if (spec.accel === 'tcg') return { binary, accel: { accel: 'tcg' } };
  const verdict = await probeAccel(spec.arch, {
    binary,
    force: spec.accel === 'kvm' ? 'kvm' : undefined,
    cacheDir: options.cacheDir,
  });
  return { binary, accel: { accel: verdict.accel, cpu: verdict.cpu } };
}
