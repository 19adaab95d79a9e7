import { execa } from 'execa';
import t from 'tap';
import { ARCHES, hostArch } from '../../lib/arch/table.js';
import { formatDoctor } from '../../lib/cli/commands/doctor.js';
import { archSupport } from '../../lib/host/support.js';
import type { HostFacts, QemuBinary } from '../../lib/host/types.js';
import { cliPath } from '../fixtures/guests.js';

t.setTimeout(60_000);

t.test('doctor --json reports this host, with a reason for the accelerator', async (t) => {
  const result = await execa(process.execPath, [cliPath, 'doctor', '--json'], { reject: false });
  t.equal(result.exitCode, 0, result.stderr);
  const facts = JSON.parse(result.stdout) as HostFacts;
  t.equal(facts.hostArch, hostArch());
  const host = facts.hostArch;
  if (!host) return;
  const qemu = facts.qemu[host];
  t.ok(qemu, 'the host arch QEMU is installed (scripts/setup installs it)');
  t.match(qemu?.version ?? '', /^\d+\.\d+\.\d+$/);
  const accel = facts.accel[host];
  t.match(accel?.accel, /^(kvm|tcg)$/);
  t.ok(accel?.reason.length, 'a one-line reason');
  if (accel?.accel === 'kvm') t.notOk(accel.reason.includes('did not finish'));
  else if (facts.kvmDevice.accessible)
    t.match(accel?.reason, /guest code|KVM/, 'TCG despite a usable /dev/kvm is explained');
  t.match(facts.sandbox?.[host], { seccomp: true, reason: /\S/ }, 'this QEMU build has seccomp');
  if (process.getuid?.() === 0) t.equal(facts.qemuUser, 'nobody', 'as root, QEMU drops to nobody here');
  const human = await execa(process.execPath, [cliPath, 'doctor'], { reject: false });
  t.equal(human.exitCode, 0);
  t.match(human.stdout, new RegExp(`\\n${host}: [^]*?\\n  sandbox: seccomp`));
  if (process.getuid?.() === 0) t.match(human.stdout, /\nqemu user: nobody /);
  t.match(human.stdout, new RegExp(`${host}: (not )?runnable.*\\n  qemu: ${qemu?.version}`));
  for (const arch of ARCHES) {
    const support = facts.support[arch];
    t.equal(typeof support.runnable, 'boolean', `${arch} says whether it can run`);
    const line = new RegExp(`\\n${arch}: ${support.runnable ? 'runnable' : 'not runnable'}`);
    t.match(human.stdout, line);
    for (const piece of support.missing) t.match(human.stdout, `(apt-get install ${piece.debianPackage})`);
  }
});

t.test('formatDoctor: missing pieces say which package to install', async (t) => {
  const facts: HostFacts = {
    hostArch: 'x86_64',
    qemu: {
      x86_64: {
        arch: 'x86_64',
        path: '/usr/bin/qemu-system-x86_64',
        version: '7.2.22',
        major: 7,
        minor: 2,
        micro: 22,
        banner: 'QEMU emulator version 7.2.22',
      },
    },
    accel: {
      x86_64: { accel: 'kvm', cpu: 'host', reason: 'guest code ran under KVM in 40 ms', cached: true },
    },
    firmware: {
      x86_64: {
        uefi: { device: 'flash', executable: '/usr/share/OVMF/OVMF_CODE_4M.fd', format: 'raw', features: [] },
      },
    },
    support: {
      x86_64: archSupport('x86_64', undefined, undefined),
      aarch64: archSupport('aarch64', undefined, undefined),
      riscv64: archSupport('riscv64', undefined, undefined),
    },
    kvmDevice: { path: '/dev/kvm', exists: true, accessible: true },
    warnings: ['firmware descriptor /etc/qemu/firmware/x.json is not JSON: skipped'],
  };
  facts.support.x86_64 = archSupport('x86_64', facts.qemu.x86_64, facts.firmware.x86_64);
  const text = formatDoctor(facts);
  t.match(text, 'x86_64: runnable: kernels only, not disk images\n');
  t.match(
    text,
    "missing for disk images: bios-256k.bin (the BIOS) is not in QEMU's data directories (apt-get install seabios)",
  );
  t.match(text, 'accelerator: kvm, -cpu host (cached): guest code ran under KVM in 40 ms');
  t.match(text, 'uefi: /usr/share/OVMF/OVMF_CODE_4M.fd');
  t.match(text, 'qemu-img: missing (apt-get install qemu-utils)');
  t.match(text, 'aarch64: not runnable\n  qemu: missing (apt-get install qemu-system-arm)');
  t.match(text, 'riscv64: not runnable\n  qemu: missing (apt-get install qemu-system-misc)');
  const riscv = {
    ...facts,
    qemu: { riscv64: { ...(facts.qemu.x86_64 as QemuBinary), arch: 'riscv64' as const } },
    firmware: { riscv64: { bios: '/usr/share/qemu/opensbi-riscv64-generic-fw_dynamic.bin' } },
  };
  riscv.support.riscv64 = archSupport('riscv64', riscv.qemu.riscv64, riscv.firmware.riscv64);
  t.match(
    formatDoctor(riscv),
    /riscv64: runnable: kernels only, not disk images\n[\s\S]*uefi: none found\n {2}missing for disk images: .*uboot\.elf is not installed .*\(apt-get install u-boot-qemu\)/,
  );
  t.match(text, 'warnings:\n  firmware descriptor');
  const noKvm = formatDoctor({
    ...facts,
    kvmDevice: { path: '/dev/kvm', exists: false, accessible: false, problem: 'missing' },
  });
  t.match(noKvm, 'kvm device: /dev/kvm not usable (missing)');
});

t.test('doctor says which mount transports this host has, and what would add virtiofs', async (t) => {
  const result = await execa(process.execPath, [cliPath, 'doctor', '--json'], { reject: false });
  const facts = JSON.parse(result.stdout) as HostFacts;
  if (process.getuid?.() === 0) {
    t.same(
      facts.mounts,
      { virtiofsd: '/usr/lib/qemu/virtiofsd', virtiofs: true },
      "Debian 12's virtiofsd, as root",
    );
    const human = await execa(process.execPath, [cliPath, 'doctor'], { reject: false });
    t.match(human.stdout, '\nmounts: virtiofs (/usr/lib/qemu/virtiofsd) and 9p\n');
  }
  const base = { ...facts, warnings: [] };
  t.match(
    formatDoctor({ ...base, mounts: { virtiofsd: '/v', virtiofs: false } }),
    'mounts: 9p only; virtiofs needs root',
  );
  t.match(
    formatDoctor({ ...base, mounts: { virtiofs: false } }),
    'mounts: 9p only; no virtiofs: no virtiofsd (Debian 12: qemu-system-common; newer: apt-get install virtiofsd)',
  );
});
