import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCHES, hostArch } from '../../lib/arch/table.js';
import { probeHost } from '../../lib/host/index.js';

// Forcing TCG keeps these from booting anything; the KVM probe itself is tested in accel.test.ts.

t.test('probeHost on this host: consistent, JSON-serialisable facts', async (t) => {
  const cacheDir = t.testdir();
  const facts = await probeHost({ force: 'tcg', cacheDir });
  t.equal(facts.hostArch, hostArch());
  t.same(JSON.parse(JSON.stringify(facts)), facts, 'survives a JSON round trip unchanged');
  t.same(
    Object.keys(facts.accel).sort(),
    Object.keys(facts.qemu).sort(),
    'a verdict for every installed arch',
  );
  t.same(Object.keys(facts.firmware).sort(), Object.keys(facts.qemu).sort());
  for (const arch of ARCHES) {
    const verdict = facts.accel[arch];
    if (!verdict) continue;
    t.equal(verdict.accel, 'tcg', arch);
    t.match(verdict.reason, arch === facts.hostArch ? 'forced by the user' : /differs from host/);
    t.equal(facts.qemu[arch]?.arch, arch);
    const { uefi, uefiSecureBoot } = facts.firmware[arch] ?? {};
    if (uefi) t.notOk(uefi.features.includes('secure-boot'), `${arch} plain UEFI`);
    if (uefiSecureBoot) t.ok(uefiSecureBoot.features.includes('secure-boot'), `${arch} secure boot UEFI`);
  }
  for (const arch of ARCHES) {
    const support = facts.support[arch];
    t.equal(
      support.runnable,
      facts.qemu[arch] !== undefined && support.missing.every((m) => m.neededFor !== 'all guests'),
    );
    if (!support.diskImages) t.ok(support.missing.length > 0, `${arch}: why disk images cannot boot is said`);
    for (const piece of support.missing) t.match(piece.debianPackage, /^[a-z0-9][a-z0-9.+-]+$/);
  }
  if (facts.qemuImg) t.match(facts.qemuImg, { path: /\/qemu-img$/, version: /^\d+\.\d+\.\d+$/ });
  t.equal(facts.kvmDevice.path, '/dev/kvm');
});

t.test('an empty PATH and no firmware: nothing found, nothing thrown', async (t) => {
  const dir = t.testdir({ fw: {} });
  const facts = await probeHost({
    env: { PATH: dir },
    firmwareDirs: [join(dir, 'fw')],
    cacheDir: dir,
    force: 'tcg',
  });
  t.same(
    [facts.qemu, facts.accel, facts.firmware, facts.qemuImg, facts.warnings],
    [{}, {}, {}, undefined, []],
  );
  t.same(facts.support.riscv64, {
    runnable: false,
    diskImages: false,
    missing: [
      {
        what: 'qemu-system-riscv64 is not installed',
        neededFor: 'all guests',
        debianPackage: 'qemu-system-misc',
      },
    ],
  });
});

t.test('broken binaries and descriptors become warnings; the rest is still probed', async (t) => {
  const dir = t.testdir({
    bin: {},
    fw: {
      '10-bad.json': '{',
      '60-ok.json':
        '{"interface-types":["uefi"],"mapping":{"device":"memory","filename":"/nowhere"},"targets":[]}',
    },
  });
  const bin = join(dir, 'bin');
  const tools: [string, string][] = [
    ['qemu-system-riscv64', 'echo "QEMU emulator version 9.0.0"'],
    ['qemu-system-aarch64', 'echo broken >&2; exit 1'],
    ['qemu-img', 'echo broken >&2; exit 1'],
  ];
  for (const [name, body] of tools) {
    await writeFile(join(bin, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(bin, name), 0o755);
  }
  const facts = await probeHost({
    env: { PATH: bin },
    firmwareDirs: [join(dir, 'fw')],
    cacheDir: dir,
    force: 'tcg',
  });
  t.same(Object.keys(facts.qemu), ['riscv64']);
  t.match(facts.accel.riscv64, { accel: 'tcg' });
  t.same(facts.firmware.riscv64?.uefi, undefined);
  t.equal(facts.qemuImg, undefined);
  t.equal(facts.warnings.length, 3);
  t.match(facts.warnings.join('\n'), /qemu-system-aarch64 -version did not report a version/);
  t.match(facts.warnings.join('\n'), /qemu-img --version did not report a version/);
  t.match(facts.warnings.join('\n'), /10-bad\.json: skipped, not valid JSON/);
});
