// Which QEMU binary and accelerator a spec runs with on this host: probed (and cached) unless the caller says.

import { probeAccel } from '../host/accel.js';
import { locateQemu, resolveQemuBinary } from '../host/binaries.js';
import type { VmSpec } from '../machine/spec.js';
import type { AccelChoice } from '../qemu/argv.js';
import { checkAccelChoice } from './launch-options.js';

export interface HostChoice {
  binary: string;
  accel: AccelChoice;
}

/**
 * Cheap on the hot path: a PATH lookup and, for `auto`, the cached verdict (QEMU is not run to ask its version).
 * A binary given by name is looked up on PATH as a shell would; an accelerator given must be one qlaunch knows.
 */
export async function resolveHost(
  spec: VmSpec,
  options: { binary?: string | undefined; accel?: AccelChoice | undefined; cacheDir?: string | undefined },
): Promise<HostChoice> {
  checkAccelChoice(options.accel);
  const binary =
    options.binary === undefined ? await locateQemu(spec.arch) : await resolveQemuBinary(options.binary);
  if (options.accel) return { binary, accel: options.accel };
  if (spec.accel === 'tcg') return { binary, accel: { accel: 'tcg' } };
  const verdict = await probeAccel(spec.arch, {
    binary,
    force: spec.accel === 'kvm' ? 'kvm' : undefined,
    cacheDir: options.cacheDir,
  });
  return { binary, accel: { accel: verdict.accel, cpu: verdict.cpu } };
}
