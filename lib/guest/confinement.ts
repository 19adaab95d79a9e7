// The confinement a guest's QEMU gets on this host: the seccomp filter where the build has it, and under root an
// unprivileged user; the opt-outs honoured, and what each gives up said.

import { runAsUser, runningAsRoot } from '../host/run-as.js';
import { probeSandbox } from '../host/sandbox.js';
import type { Logger } from '../logger.js';
import { type Confinement, type ConfinementChoice, confinementWarnings } from '../qemu/confinement.js';

export interface ConfinementOptions {
  cacheDir?: string | undefined;
  logger?: Logger | undefined;
  /** Where the cost of an opt-out, or a QEMU without seccomp, is told. */
  onProgress?: ((line: string) => void) | undefined;
}

/** What `binary` runs with for `choice` (opt-outs); probes seccomp support once per QEMU build. */
export async function resolveConfinement(
  binary: string,
  choice: ConfinementChoice,
  options: ConfinementOptions = {},
): Promise<Confinement> {
  const root = runningAsRoot();
  const tell = (line: string) => {
    options.logger?.warn(line);
    options.onProgress?.(line);
  };
  for (const line of confinementWarnings(choice, root)) tell(line);
  let sandbox = choice.sandbox !== false;
  if (sandbox) {
    const verdict = await probeSandbox(binary, { cacheDir: options.cacheDir });
    if (!verdict.seccomp) {
      tell(`warning: ${binary} has no seccomp support (${verdict.reason}): QEMU runs without a sandbox`);
      sandbox = false;
    }
  }
  if (!root || choice.runAsRoot) return { sandbox };
  const runAs = await runAsUser();
  if (runAs === undefined) {
    tell('warning: no user to run QEMU as (qlaunch, libvirt-qemu or nobody): QEMU runs as root');
  }
  return { sandbox, runAs };
}
