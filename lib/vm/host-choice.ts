// Which QEMU binary and accelerator a spec runs with on this host: probed (and cached) unless the caller says.

import { probeAccel, requireQemu } from '../host/index.js';
import type { VmSpec } from '../machine/spec.js';
import type { AccelChoice } from '../qemu/argv.js';

export interface HostChoice {
  binary: string;
  accel: AccelChoice;
}

export async function resolveHost(
  spec: VmSpec,
  options: { binary?: string | undefined; accel?: AccelChoice | undefined; cacheDir?: string | undefined },
): Promise<HostChoice> {
  const qemu = options.binary ? undefined : await requireQemu(spec.arch);
  const binary = options.binary ?? qemu?.path ?? '';
  if (options.accel) return { binary, accel: options.accel };
  if (spec.accel === 'tcg') return { binary, accel: { accel: 'tcg' } };
  const verdict = await probeAccel(spec.arch, {
    binary,
    qemu,
    force: spec.accel === 'kvm' ? 'kvm' : undefined,
    cacheDir: options.cacheDir,
  });
  return { binary, accel: { accel: verdict.accel, cpu: verdict.cpu } };
}
