// `qlaunch doctor`: what this host can run — QEMU binaries, accelerators (proven by running guest code), firmware.

import type { CommandModule } from 'yargs';
import { ARCH_TABLE, ARCHES } from '../../arch/table.js';
import type { ArchSupport, HostFacts, MountTransports } from '../../host/types.js';
import { printJson, reportError } from '../output.js';

interface DoctorArgs {
  json?: boolean | undefined;
  refresh?: boolean | undefined;
}

/** "runnable: kernels and disk images", or what it cannot run. */
function runnableLine(support: ArchSupport): string {
  if (!support.runnable) return 'not runnable';
  return support.diskImages ? 'runnable: kernels and disk images' : 'runnable: kernels only, not disk images';
}

/** Which transports `--mount` has here, and what would add virtiofs. */
function mountsLine(mounts: MountTransports): string {
  if (mounts.virtiofs) return `virtiofs (${mounts.virtiofsd}) and 9p`;
  const why = mounts.virtiofsd
    ? `virtiofs needs root (${mounts.virtiofsd} sandboxes itself with namespaces)`
    : 'no virtiofs: no virtiofsd (Debian 12: qemu-system-common; newer: apt-get install virtiofsd)';
  return `9p only; ${why}`;
}

/** Human report: one block per architecture (can it run, and what to install), then warnings. Pure, for testing. */
export function formatDoctor(facts: HostFacts): string {
  const lines = [`host architecture: ${facts.hostArch ?? 'not supported by qlaunch'}`];
  const kvm = facts.kvmDevice;
  lines.push(
    `kvm device: ${kvm.path} ${kvm.accessible ? 'opens read-write' : `not usable (${kvm.problem})`}`,
  );
  lines.push(
    facts.qemuImg
      ? `qemu-img: ${facts.qemuImg.version} (${facts.qemuImg.path})`
      : 'qemu-img: missing (apt-get install qemu-utils)',
  );
  if (facts.qemuUser !== undefined) {
    lines.push(`qemu user: ${facts.qemuUser} (QEMU drops to it from root once its files are open)`);
  }
  if (facts.mounts) lines.push(`mounts: ${mountsLine(facts.mounts)}`);
  for (const arch of ARCHES) {
    const qemu = facts.qemu[arch];
    const support = facts.support[arch];
    lines.push('', `${arch}: ${runnableLine(support)}`);
    if (!qemu) {
      lines.push(`  qemu: missing (apt-get install ${ARCH_TABLE[arch].debianPackage})`);
      continue;
    }
    lines.push(`  qemu: ${qemu.version} (${qemu.path})`);
    const accel = facts.accel[arch];
    if (accel) {
      const cpu = accel.cpu ? `, -cpu ${accel.cpu}` : '';
      lines.push(`  accelerator: ${accel.accel}${cpu}${accel.cached ? ' (cached)' : ''}: ${accel.reason}`);
    }
    const sandbox = facts.sandbox?.[arch];
    if (sandbox) {
      const how = sandbox.seccomp ? 'seccomp' : 'none, QEMU runs unfiltered';
      lines.push(`  sandbox: ${how}${sandbox.cached ? ' (cached)' : ''}: ${sandbox.reason}`);
    }
    const fw = facts.firmware[arch];
    const { bios, uefi } = ARCH_TABLE[arch];
    if (bios.kind !== 'none') lines.push(`  bios: ${fw?.bios ?? 'none found'}`);
    const uefiFile = uefi.kind === 'edk2' ? fw?.uefi?.executable : fw?.uefiLoader;
    lines.push(`  uefi: ${uefiFile ?? 'none found'}`);
    for (const piece of support.missing) {
      lines.push(`  missing for ${piece.neededFor}: ${piece.what} (apt-get install ${piece.debianPackage})`);
    }
  }
  if (facts.warnings.length) lines.push('', 'warnings:', ...facts.warnings.map((w) => `  ${w}`));
  return `${lines.join('\n')}\n`;
}

export const doctorCommand = (setExit: (code: number) => void): CommandModule<object, DoctorArgs> => ({
  command: 'doctor',
  describe: 'show what this host can run: QEMU, KVM (really tested), firmware',
  builder: (y) =>
    y.option('json', { type: 'boolean', describe: 'print the facts as JSON' }).option('refresh', {
      type: 'boolean',
      describe: 'probe KVM again instead of using the cached verdict',
    }),
  handler: async (args) => {
    try {
      const { probeHost } = await import('../../host/index.js');
      const facts = await probeHost({ refresh: args.refresh });
      if (args.json) printJson(facts);
      else process.stdout.write(formatDoctor(facts));
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});
