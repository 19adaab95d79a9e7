import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { ARCH_TABLE } from '../../lib/arch/table.js';
import { resolveFirmware } from '../../lib/guest/firmware.js';
import { launch } from '../../lib/guest/launch.js';
import { locateQemu } from '../../lib/host/binaries.js';
import { normalizeSpec, type VmSpec, type VmSpecInput } from '../../lib/machine/spec.js';
import { shortTempDir, tinyGuest } from '../fixtures/guests.js';

t.setTimeout(240_000);

const SYSTEM_DIRS = ['/etc/qemu/firmware', '/usr/share/qemu/firmware'];

const sha256 = (path: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/** A descriptor as Debian's edk2 packages write them. */
const descriptor = (arch: string, machines: string[], code: string, vars: string, features: string[] = []) =>
  JSON.stringify({
    'interface-types': ['uefi'],
    mapping: {
      device: 'flash',
      executable: { filename: code, format: 'raw' },
      'nvram-template': { filename: vars, format: 'raw' },
    },
    targets: [{ architecture: arch, machines }],
    features,
  });

const spec = (input: VmSpecInput): VmSpec => normalizeSpec({ disks: ['/d/root.qcow2'], ...input });

t.test(
  "the descriptors Debian installs: plain edk2 for x86_64 and aarch64, the VM's own NVRAM copy",
  async (t) => {
    const dir = t.testdir();
    const cases = [
      ['x86_64', '60-edk2-x86_64.json', 'ovmf'],
      ['aarch64', '60-edk2-aarch64.json', 'qemu-efi-aarch64'],
    ] as const;
    for (const [arch, expected, pkg] of cases) {
      const nvramPath = join(dir, `${arch}.fd`);
      const binary = await locateQemu(arch);
      const fw = await resolveFirmware(spec({ arch, firmware: 'uefi' }), {
        binary,
        nvramPath,
        firmwareDirs: SYSTEM_DIRS,
      });
      if (fw?.kind !== 'pflash' || !fw.nvram) {
        t.fail(`${arch}: expected edk2 on pflash (scripts/setup installs ${pkg}), got ${JSON.stringify(fw)}`);
        continue;
      }
      t.match(
        fw.description,
        expected,
        `${arch}: the non-secure-boot build, by priority after skipping secure ones`,
      );
      t.notMatch(fw.executable.path, /secboot|\.ms\./);
      const template = JSON.parse(await readFile(join('/usr/share/qemu/firmware', expected), 'utf8')).mapping[
        'nvram-template'
      ].filename as string;
      const [copy, original] = await Promise.all([stat(nvramPath), stat(template)]);
      t.equal(
        copy.size,
        original.size,
        `${arch}: NVRAM copy is the template's size (${original.size} bytes)`,
      );
      t.equal(copy.mode & 0o777, 0o600, `${arch}: NVRAM copy is private`);
      t.equal(await sha256(nvramPath), await sha256(template), `${arch}: byte for byte`);
      t.same(fw.nvram, { path: nvramPath, format: 'raw' });
      if (arch === 'aarch64') t.equal(copy.size, 64 * 1024 * 1024, 'AAVMF variable stores are 64 MiB');
    }
    t.same(await readdir(dir), ['aarch64.fd', 'x86_64.fd'], 'no partial copies left');
  },
);

t.test('an instance keeps its NVRAM when asked; a throwaway run always gets a fresh copy', async (t) => {
  const dir = t.testdir({
    fw: { 'CODE.fd': 'code', 'VARS.fd': 'template' },
    d: {},
    'nvram.fd': 'my boot entries',
  });
  await writeFile(
    join(dir, 'd', '60-x.json'),
    descriptor('aarch64', ['virt'], join(dir, 'fw', 'CODE.fd'), join(dir, 'fw', 'VARS.fd')),
  );
  const options = { binary: 'unused', nvramPath: join(dir, 'nvram.fd'), firmwareDirs: [join(dir, 'd')] };
  const uefi = spec({ arch: 'aarch64', firmware: 'uefi' });
  const kept = await resolveFirmware(uefi, { ...options, keepExistingNvram: true });
  t.match(kept?.description, /variables kept in/);
  t.equal(await readFile(options.nvramPath, 'utf8'), 'my boot entries');
  await resolveFirmware(uefi, options);
  t.equal(await readFile(options.nvramPath, 'utf8'), 'template');
  await resolveFirmware(uefi, { ...options, nvramPath: join(dir, 'fresh.fd'), keepExistingNvram: true });
  t.equal(await readFile(join(dir, 'fresh.fd'), 'utf8'), 'template', 'nothing to keep: copied');
});

t.test('made-up descriptor sets: priority, user overrides, secure boot skipped, clear errors', async (t) => {
  const dir = t.testdir({
    fw: { 'A.fd': 'a', 'B.fd': 'b', 'U.fd': 'u', 'S.fd': 's', 'VARS.fd': 'v' },
    user: {},
    sys: {},
    only: {},
  });
  const fw = (name: string) => join(dir, 'fw', name);
  const vars = fw('VARS.fd');
  await writeFile(
    join(dir, 'sys', '40-secure.json'),
    descriptor('aarch64', ['virt-*'], fw('S.fd'), vars, ['secure-boot']),
  );
  await writeFile(join(dir, 'sys', '50-a.json'), descriptor('aarch64', ['virt-*'], fw('A.fd'), vars));
  await writeFile(join(dir, 'sys', '60-b.json'), descriptor('aarch64', ['virt-*'], fw('B.fd'), vars));
  await writeFile(join(dir, 'sys', '70-x86.json'), descriptor('x86_64', ['pc-q35-*'], fw('A.fd'), vars));
  const binary = await locateQemu('aarch64');
  const resolveWith = (dirs: string[], over: VmSpecInput = {}) =>
    resolveFirmware(spec({ arch: 'aarch64', firmware: 'uefi', ...over }), {
      binary,
      nvramPath: join(dir, 'nvram.fd'),
      firmwareDirs: dirs.map((d) => join(dir, d)),
    });

  const best = await resolveWith(['user', 'sys']);
  t.match(
    best,
    { kind: 'pflash', executable: { path: fw('A.fd') } },
    'lowest file-name number first; secure skipped',
  );
  t.match(best?.description, '50-a.json');

  // The user dir overrides a system file of the same name, and an empty file hides one.
  await writeFile(join(dir, 'user', '50-a.json'), descriptor('aarch64', ['virt-*'], fw('U.fd'), vars));
  t.match(await resolveWith(['user', 'sys']), { executable: { path: fw('U.fd') } });
  await writeFile(join(dir, 'user', '50-a.json'), '');
  t.match(await resolveWith(['user', 'sys']), { executable: { path: fw('B.fd') } }, 'masked: the next one');

  // Only a secure-boot build: refused, and the error says why and what to install.
  await writeFile(
    join(dir, 'only', '40-secure.json'),
    descriptor('aarch64', ['virt-*'], fw('S.fd'), vars, ['secure-boot']),
  );
  await writeFile(join(dir, 'only', '60-gone.json'), descriptor('aarch64', ['virt-*'], fw('gone.fd'), vars));
  await t.rejects(resolveWith(['only']), {
    code: 'HOST_FIRMWARE_MISSING',
    message:
      /no UEFI firmware for aarch64 .*40-secure\.json: has feature secure-boot, not asked for.*60-gone\.json: its files are missing/,
    hint: 'install it: apt-get install qemu-efi-aarch64',
  });
  await t.rejects(resolveWith(['user']), {
    code: 'HOST_FIRMWARE_MISSING',
    message: /no descriptor is for aarch64/,
    hint: /qemu-efi-aarch64/,
  });
  await t.rejects(
    resolveFirmware(spec({ arch: 'x86_64', firmware: 'uefi' }), {
      binary: await locateQemu('x86_64'),
      nvramPath: join(dir, 'nvram.fd'),
      firmwareDirs: [join(dir, 'only')],
    }),
    { code: 'HOST_FIRMWARE_MISSING', hint: 'install it: apt-get install ovmf' },
  );
});

t.test(
  '--firmware PATH: an edk2 build a descriptor knows goes on pflash, anything else is -bios',
  async (t) => {
    const dir = t.testdir({
      fw: { 'CODE.fd': 'code', 'VARS.fd': 'v', 'SVARS.fd': 'sv', 'bios.bin': 'b' },
      d: {},
    });
    const fw = (name: string) => join(dir, 'fw', name);
    await symlink(fw('CODE.fd'), fw('CODE.ms.fd'));
    // As Debian ships AAVMF: the secure-boot descriptor names a symlink to the same code file.
    await writeFile(
      join(dir, 'd', '40-sb.json'),
      descriptor('aarch64', ['virt-*'], fw('CODE.ms.fd'), fw('SVARS.fd'), ['secure-boot']),
    );
    await writeFile(
      join(dir, 'd', '60-plain.json'),
      descriptor('aarch64', ['virt-*'], fw('CODE.fd'), fw('VARS.fd')),
    );
    const options = { binary: 'unused', nvramPath: join(dir, 'nvram.fd'), firmwareDirs: [join(dir, 'd')] };
    const viaLink = await resolveFirmware(spec({ arch: 'aarch64', firmware: fw('CODE.ms.fd') }), options);
    t.match(viaLink, {
      kind: 'pflash',
      executable: { path: fw('CODE.ms.fd') },
      nvram: { path: options.nvramPath },
    });
    t.match(viaLink?.description, /is edk2 for aarch64, so pflash: .*60-plain\.json/, 'says what it chose');
    t.equal(
      await readFile(options.nvramPath, 'utf8'),
      'v',
      'the plain build’s variable store, not secure boot’s',
    );

    t.match(await resolveFirmware(spec({ arch: 'aarch64', firmware: fw('bios.bin') }), options), {
      kind: 'bios',
      path: fw('bios.bin'),
      description: /no firmware descriptor knows it/,
    });
    await t.rejects(resolveFirmware(spec({ arch: 'x86_64', firmware: fw('CODE.fd') }), options), {
      code: 'SPEC_INVALID',
      message: /CODE\.fd is for aarch64 \(40-sb\.json\), not x86_64/,
    });
    await t.rejects(resolveFirmware(spec({ arch: 'x86_64', firmware: 'nonsense-path' }), options), {
      code: 'SPEC_FILE_MISSING',
      message: 'firmware nonsense-path does not exist',
      hint: /bios, uefi, or the path of a firmware file/,
    });
  },
);

t.test('bios, direct kernel boots, and riscv64 UEFI through U-Boot', async (t) => {
  const options = { binary: 'unused', nvramPath: '/nonexistent/nvram.fd', firmwareDirs: [] };
  t.equal(await resolveFirmware(normalizeSpec({ arch: 'aarch64', kernel: '/k' }), options), undefined);
  t.same(await resolveFirmware(spec({ arch: 'x86_64' }), options), { kind: 'bios' }, 'SeaBIOS: no option');
  t.match(await resolveFirmware(spec({ arch: 'riscv64', firmware: 'bios' }), options), {
    kind: 'bios',
    path: 'default',
  });
  await t.rejects(resolveFirmware({ ...spec({ arch: 'aarch64' }), firmware: 'bios' }, options), {
    code: 'SPEC_INVALID',
    message: /no BIOS/,
  });
  const uboot = ARCH_TABLE.riscv64.uefi;
  t.same(
    await resolveFirmware(spec({ arch: 'riscv64' }), options),
    {
      kind: 'loader',
      bios: 'default',
      loader: uboot.kind === 'loader' ? uboot.path : '',
      description: `UEFI: ${uboot.kind === 'loader' ? uboot.path : ''} on OpenSBI (-bios default)`,
    },
    'a riscv64 disk boots through U-Boot (scripts/setup installs u-boot-qemu)',
  );
});

/** A disk U-Boot's distro boot finds: MBR, one FAT partition at 1 MiB with extlinux.conf, the kernel and initrd. */
async function extlinuxDisk(dir: string, kernel: string, initrd: string, append: string): Promise<string> {
  const disk = join(dir, 'boot.img');
  await writeFile(disk, '');
  await truncate(disk, 64 * 1024 * 1024);
  const mbr = Buffer.alloc(512);
  const entry = 446;
  mbr[entry] = 0x80; // bootable
  mbr[entry + 4] = 0x0c; // FAT32, LBA
  mbr.writeUInt32LE(2048, entry + 8);
  mbr.writeUInt32LE(64 * 2048 - 2048, entry + 12);
  mbr.writeUInt16LE(0xaa55, 510);
  const handle = await open(disk, 'r+');
  await handle.write(mbr, 0, 512, 0);
  await handle.close();
  const part = `${disk}@@1M`;
  await writeFile(
    join(dir, 'extlinux.conf'),
    `default tiny\nlabel tiny\n  kernel /Image\n  initrd /initrd\n  append ${append}\n`,
  );
  await execa('mformat', ['-i', part, '-F', '-v', 'BOOT', '::']);
  await execa('mmd', ['-i', part, '::/extlinux']);
  await execa('mcopy', ['-i', part, kernel, '::/Image']);
  await execa('mcopy', ['-i', part, initrd, '::/initrd']);
  await execa('mcopy', ['-i', part, join(dir, 'extlinux.conf'), '::/extlinux/extlinux.conf']);
  return disk;
}

t.test('a riscv64 disk boots by default through U-Boot on OpenSBI (no kernel given)', async (t) => {
  const guest = await tinyGuest('riscv64');
  const dir = shortTempDir(t);
  const disk = await extlinuxDisk(dir, guest.kernel, guest.initrd, guest.append);
  const lines: string[] = [];
  const vm = await launch(
    { arch: 'riscv64', disks: [disk], memory: '256M', accel: 'tcg', network: false },
    { onProgress: (line) => lines.push(line) },
  );
  try {
    t.match(lines, [/firmware: UEFI: .*uboot\.elf on OpenSBI/]);
    await vm.waitForSerial(guest.readyMarker, { timeout: 180_000 });
    t.match(vm.console.tail(200), /U-Boot/, 'U-Boot ran');
    t.pass('the kernel U-Boot loaded from the disk reached /init');
  } finally {
    await vm.stop({ timeout: 10_000 });
  }
});
