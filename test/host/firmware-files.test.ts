import { access, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCH_TABLE, type Arch } from '../../lib/arch/table.js';
import { findQemu } from '../../lib/host/binaries.js';
import {
  defaultFirmwareDirs,
  findDataFile,
  findFirmware,
  loadFirmwareDescriptors,
  qemuDataDirs,
  queryDataDirs,
} from '../../lib/host/firmware-files.js';
import { listMachines, machineNames } from '../../lib/host/machines.js';

const descriptor = (arch: string, machines: string[], code: string, features: string[] = []): string =>
  JSON.stringify({
    'interface-types': ['uefi'],
    mapping: {
      device: 'flash',
      executable: { filename: code, format: 'raw' },
      'nvram-template': { filename: `${code}.vars`, format: 'raw' },
    },
    targets: [{ architecture: arch, machines }],
    features,
  });

const q35 = { arch: 'x86_64', machines: ['q35', 'pc-q35-7.2'] };

t.test('defaultFirmwareDirs: per-user first, then /etc, then /usr/share', async (t) => {
  t.same(defaultFirmwareDirs({ XDG_CONFIG_HOME: '/cfg' }), [
    '/cfg/qemu/firmware',
    '/etc/qemu/firmware',
    '/usr/share/qemu/firmware',
  ]);
  t.match(defaultFirmwareDirs({ XDG_CONFIG_HOME: 'relative' })[0], /\/\.config\/qemu\/firmware$/);
});

t.test('made-up descriptor sets', async (t) => {
  const root = t.testdir({
    fw: { 'A.fd': 'a', 'A.fd.vars': 'v', 'B.fd': 'b', 'B.fd.vars': 'v', 'C.fd': 'c', 'C.fd.vars': 'v' },
    user: {
      '60-edk2.json': descriptor('x86_64', ['pc-q35-*'], '@/fw/C.fd'),
      '20-broken.json': '{ "interface-types": [',
      '30-wrong-shape.json': '{"interface-types": ["uefi"]}',
      'notes.txt': 'not a descriptor',
    },
    etc: { '50-masked.json': '' },
    usr: {
      '50-masked.json': descriptor('x86_64', ['pc-q35-*'], '@/fw/A.fd'),
      '55-second.json': descriptor('x86_64', ['pc-q35-*'], '@/fw/B.fd'),
      '60-edk2.json': descriptor('x86_64', ['pc-q35-*'], '@/fw/A.fd'),
      '70-arm.json': descriptor('aarch64', ['virt-*'], '@/fw/A.fd'),
      '80-missing.json': descriptor('riscv64', ['virt'], '@/fw/nowhere.fd'),
    },
  });
  // Descriptors need absolute file names; the fixture's "@" stands for the test dir.
  for (const dir of ['user', 'usr']) {
    for (const name of await readdir(join(root, dir))) {
      const path = join(root, dir, name);
      await writeFile(path, (await readFile(path, 'utf8')).replaceAll('@', root));
    }
  }
  const dirs = ['user', 'etc', 'usr', 'absent'].map((d) => join(root, d));
  const { descriptors, warnings } = await loadFirmwareDescriptors(dirs);

  t.same(
    descriptors.map((d) => d.file),
    ['55-second.json', '60-edk2.json', '70-arm.json', '80-missing.json'].map((n) =>
      join(root, n === '60-edk2.json' ? 'user' : 'usr', n),
    ),
    'empty /etc file hides 50-masked, the user dir overrides 60-edk2, broken files are skipped',
  );
  t.equal(warnings.length, 2, 'one warning per broken file');
  t.match(warnings[0], new RegExp(`^${join(root, 'user', '20-broken.json')}: skipped, not valid JSON`));
  t.match(
    warnings[1],
    new RegExp(`^${join(root, 'user', '30-wrong-shape.json')}: skipped, no "mapping" object`),
  );

  t.match(
    await findFirmware(descriptors, q35),
    { descriptor: join(root, 'usr', '55-second.json') },
    'by priority',
  );
  t.match(await findFirmware(descriptors.slice(1), q35), {
    descriptor: join(root, 'user', '60-edk2.json'),
    executable: join(root, 'fw', 'C.fd'),
    nvramTemplate: join(root, 'fw', 'C.fd.vars'),
  });
  t.equal(
    await findFirmware(descriptors, { arch: 'x86_64', machines: ['pc-i440fx-7.2'] }),
    undefined,
    'none match',
  );
  t.equal(
    await findFirmware(descriptors, { arch: 'riscv64', machines: ['virt'] }),
    undefined,
    'files missing',
  );
  t.same(await loadFirmwareDescriptors([join(root, 'absent')]), { descriptors: [], warnings: [] });
});

t.test('a firmware dir that is a file is not an error', async (t) => {
  const root = t.testdir({ file: 'x' });
  t.same(await loadFirmwareDescriptors([join(root, 'file')]), { descriptors: [], warnings: [] });
});

t.test('the descriptors this host has installed', async (t) => {
  const { descriptors, warnings } = await loadFirmwareDescriptors();
  t.same(warnings, [], 'installed descriptors all parse');
  const arches: Arch[] = ['x86_64', 'aarch64'];
  for (const arch of arches) {
    const qemu = await findQemu(arch);
    if (!qemu) continue;
    const request = { arch, machines: machineNames(ARCH_TABLE[arch].machine, await listMachines(qemu.path)) };
    const installed = descriptors.some((d) => d.targets.some((target) => target.architecture === arch));
    const plain = await findFirmware(descriptors, request);
    const secure = await findFirmware(descriptors, { ...request, secureBoot: true });
    if (!installed) {
      t.equal(plain, undefined, `${arch}: no descriptor, no firmware`);
      continue;
    }
    t.ok(plain, `${arch}: descriptors installed, so UEFI is found for ${request.machines.join(' / ')}`);
    if (!plain) continue;
    t.notOk(plain.features.includes('secure-boot'), `${arch}: the plain choice has no secure boot`);
    await t.resolves(access(plain.executable), `${arch}: ${plain.executable} exists`);
    if (plain.nvramTemplate) await t.resolves(access(plain.nvramTemplate));
    if (secure) t.ok(secure.features.includes('secure-boot'), `${arch}: secure boot choice has the feature`);
  }
});

t.test("Debian's edk2 descriptors, when installed, give the non-secure build first", async (t) => {
  const dir = '/usr/share/qemu/firmware';
  const names = await readdir(dir).catch(() => [] as string[]);
  const cases = [
    ['x86_64', ['q35', 'pc-q35-7.2'], '60-edk2-x86_64.json', '40-edk2-x86_64-secure-enrolled.json'],
    ['aarch64', ['virt', 'virt-7.2'], '60-edk2-aarch64.json', '40-edk2-aarch64-secure-enrolled.json'],
  ] as const;
  const { descriptors } = await loadFirmwareDescriptors([dir]);
  for (const [arch, machines, plain, secure] of cases) {
    if (!names.includes(plain) || !names.includes(secure)) continue;
    const request = { arch, machines };
    t.match(await findFirmware(descriptors, request), {
      descriptor: join(dir, plain),
      device: 'flash',
      format: 'raw',
    });
    t.match(await findFirmware(descriptors, { ...request, secureBoot: true }), {
      descriptor: join(dir, secure),
    });
  }
});

t.test(
  "BIOS files (OpenSBI, SeaBIOS) are found in QEMU's data dirs, as QEMU itself lists them",
  async (t) => {
    const sbi = 'opensbi-riscv64-generic-fw_dynamic.bin';
    const root = t.testdir({ a: {}, b: { [sbi]: 'sbi' } });
    t.equal(await findDataFile(sbi, [join(root, 'a'), join(root, 'b')]), join(root, 'b', sbi));
    t.equal(await findDataFile(sbi, [join(root, 'a')]), undefined);
    t.same(qemuDataDirs('/usr/bin/qemu-system-riscv64'), ['/usr/share/qemu']);
    t.same(qemuDataDirs('/opt/q/bin/qemu-system-riscv64'), ['/opt/q/share/qemu', '/usr/share/qemu']);
    t.same(
      await queryDataDirs(join(root, 'no-such-qemu')),
      qemuDataDirs(join(root, 'no-such-qemu')),
      'the guess',
    );
    for (const arch of ['x86_64', 'riscv64'] as const) {
      const qemu = await findQemu(arch);
      if (!qemu) continue;
      const dirs = await queryDataDirs(qemu.path);
      t.ok(
        dirs.length > 0 && dirs.every((d) => d.startsWith('/') && !d.includes('/../')),
        `${arch}: ${dirs}`,
      );
      const info = ARCH_TABLE[arch].bios;
      if (info.kind === 'none') continue;
      const found = await findDataFile(info.file, dirs);
      t.ok(found, `${arch}: ${info.file} is installed with QEMU (${info.debianPackage})`);
      if (found) await t.resolves(access(found));
    }
  },
);
