import t from 'tap';
import {
  type FirmwareDescriptor,
  globMatch,
  matchFirmware,
  orderDescriptorFiles,
  parseFirmwareDescriptor,
  selectFirmware,
  toFirmwareChoice,
} from '../../lib/host/firmware.js';

/** A descriptor as JSON, in the shape Debian's edk2 packages install. */
const json = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  description: 'UEFI firmware for x86_64',
  'interface-types': ['uefi'],
  mapping: {
    device: 'flash',
    executable: { filename: '/fw/CODE.fd', format: 'raw' },
    'nvram-template': { filename: '/fw/VARS.fd', format: 'raw' },
  },
  targets: [{ architecture: 'x86_64', machines: ['pc-i440fx-*', 'pc-q35-*'] }],
  features: ['acpi-s3', 'verbose-dynamic'],
  tags: [],
  ...over,
});

const parse = (value: unknown, file = '/d/60-x.json'): FirmwareDescriptor => {
  const parsed = parseFirmwareDescriptor(value, file);
  if (!('descriptor' in parsed)) throw new Error(`test fixture does not parse: ${parsed.problem}`);
  return parsed.descriptor;
};

const q35 = { arch: 'x86_64', machines: ['q35', 'pc-q35-7.2'] };

t.test('parseFirmwareDescriptor keeps what choosing needs', async (t) => {
  t.same(parse(json()), {
    file: '/d/60-x.json',
    description: 'UEFI firmware for x86_64',
    interfaceTypes: ['uefi'],
    mapping: {
      device: 'flash',
      mode: 'split',
      executable: { filename: '/fw/CODE.fd', format: 'raw' },
      nvramTemplate: { filename: '/fw/VARS.fd', format: 'raw' },
    },
    targets: [{ architecture: 'x86_64', machines: ['pc-i440fx-*', 'pc-q35-*'] }],
    features: ['acpi-s3', 'verbose-dynamic'],
  });
  const memory = parse(
    json({ mapping: { device: 'memory', filename: '/fw/bios.bin' }, features: undefined }),
  );
  t.same([memory.mapping, memory.features], [{ device: 'memory', filename: '/fw/bios.bin' }, []]);
  const qcow2 = parse(
    json({ mapping: { device: 'flash', executable: { filename: '/fw/c.qcow2', format: 'qcow2' } } }),
  );
  t.match(toFirmwareChoice(qcow2), { format: 'qcow2', nvramTemplate: undefined });
});

t.test('parseFirmwareDescriptor says what is wrong', async (t) => {
  const problems: [unknown, RegExp][] = [
    [[], /not a JSON object/],
    [json({ 'interface-types': 'uefi' }), /interface-types/],
    [json({ mapping: null }), /no "mapping"/],
    [json({ mapping: { device: 'flash', executable: {} } }), /executable\.filename/],
    [json({ mapping: { device: 'memory' } }), /memory mapping without "filename"/],
    [json({ mapping: { device: 'floppy' } }), /unknown mapping device "floppy"/],
    [json({ targets: [{ architecture: 'x86_64' }] }), /targets/],
    [json({ features: [1] }), /features/],
  ];
  for (const [value, problem] of problems) {
    const parsed = parseFirmwareDescriptor(value, '/d/x.json');
    t.match('problem' in parsed ? parsed.problem : 'parsed', problem);
  }
});

t.test('globMatch: * and ? only, everything else literal', async (t) => {
  t.ok(globMatch('pc-q35-*', 'pc-q35-7.2'));
  t.ok(globMatch('virt-*', 'virt-10.0'));
  t.ok(globMatch('virt-?.2', 'virt-7.2'));
  t.notOk(globMatch('pc-q35-*', 'q35'));
  t.notOk(globMatch('virt-*', 'virt'));
  t.notOk(globMatch('pc-q35-7.2', 'pc-q35-712'), 'a dot is a dot');
  t.ok(globMatch('a+b(c)', 'a+b(c)'));
});

t.test('matching: interface, arch and machine glob, features, device', async (t) => {
  const plain = parse(json(), '/d/60-plain.json');
  const secure = parse(json({ features: ['requires-smm', 'secure-boot'] }), '/d/50-secure.json');
  const enrolled = parse(json({ features: ['enrolled-keys', 'secure-boot'] }), '/d/40-enrolled.json');
  const bios = parse(json({ 'interface-types': ['bios'] }), '/d/70-bios.json');
  const arm = parse(json({ targets: [{ architecture: 'aarch64', machines: ['virt-*'] }] }), '/d/60-arm.json');
  const kernel = parse(json({ mapping: { device: 'kernel', filename: '/fw/k' } }), '/d/80-kernel.json');
  const combined = parse(
    json({ mapping: { device: 'flash', mode: 'combined', executable: { filename: '/fw/all.fd' } } }),
    '/d/81-combined.json',
  );
  const all = [enrolled, secure, plain, bios, arm, kernel, combined];

  const match = matchFirmware(all, q35);
  t.same(
    match.candidates.map((d) => d.file),
    ['/d/60-plain.json'],
  );
  t.same(Object.fromEntries(match.rejected.map((r) => [r.file, r.reason])), {
    '/d/40-enrolled.json': 'has feature secure-boot, not asked for',
    '/d/50-secure.json': 'has feature secure-boot, not asked for',
    '/d/70-bios.json': 'interface-types lacks uefi',
    '/d/60-arm.json': 'no target for x86_64 machine q35 / pc-q35-7.2',
    '/d/80-kernel.json': 'kernel mappings are not supported',
    '/d/81-combined.json': 'combined flash mode is not supported',
  });

  t.same(
    matchFirmware(all, { ...q35, secureBoot: true }).candidates.map((d) => d.file),
    ['/d/40-enrolled.json', '/d/50-secure.json'],
    'secure boot: the first by priority wins, both qualify',
  );
  t.same(
    matchFirmware(all, { ...q35, secureBoot: true, rejectFeatures: ['enrolled-keys'] }).candidates.map(
      (d) => d.file,
    ),
    ['/d/50-secure.json'],
  );
  t.match(matchFirmware(all, { ...q35, requireFeatures: ['amd-sev'] }).rejected, [
    { file: '/d/40-enrolled.json' },
    { file: '/d/50-secure.json' },
    { file: '/d/60-plain.json', reason: 'lacks feature amd-sev' },
  ]);
  t.equal(
    matchFirmware(all, { arch: 'x86_64', machines: ['q35'] }).candidates.length,
    0,
    'an alias alone does not match',
  );
  t.same(
    matchFirmware(all, { arch: 'aarch64', machines: ['virt', 'virt-7.2'] }).candidates.map((d) => d.file),
    ['/d/60-arm.json'],
  );
  t.same(
    matchFirmware(all, { ...q35, interfaceType: 'bios' }).candidates.map((d) => d.file),
    ['/d/70-bios.json'],
  );
});

t.test('selectFirmware: the first candidate as a FirmwareChoice, or undefined', async (t) => {
  const memory = parse(json({ mapping: { device: 'memory', filename: '/fw/bios.bin' } }), '/d/10-mem.json');
  t.same(selectFirmware([memory, parse(json())], q35), {
    descriptor: '/d/10-mem.json',
    device: 'memory',
    executable: '/fw/bios.bin',
    format: 'raw',
    features: ['acpi-s3', 'verbose-dynamic'],
  });
  t.same(selectFirmware([parse(json())], q35), {
    descriptor: '/d/60-x.json',
    device: 'flash',
    executable: '/fw/CODE.fd',
    format: 'raw',
    nvramTemplate: '/fw/VARS.fd',
    nvramTemplateFormat: 'raw',
    features: ['acpi-s3', 'verbose-dynamic'],
  });
  t.equal(selectFirmware([], q35), undefined);
  t.equal(selectFirmware([parse(json())], { arch: 'riscv64', machines: ['virt'] }), undefined);
});

t.test('orderDescriptorFiles: override by name, empty hides, sorted by name', async (t) => {
  const order = orderDescriptorFiles([
    {
      dir: '/user',
      files: [
        { name: '60-ovmf.json', size: 10 },
        { name: 'README', size: 5 },
      ],
    },
    {
      dir: '/etc',
      files: [
        { name: '50-secure.json', size: 0 },
        { name: '10-local.json', size: 3 },
      ],
    },
    {
      dir: '/usr',
      files: [
        { name: '60-ovmf.json', size: 10 },
        { name: '50-secure.json', size: 10 },
        { name: '40-enrolled.json', size: 10 },
      ],
    },
  ]);
  t.same(order, ['/etc/10-local.json', '/usr/40-enrolled.json', '/user/60-ovmf.json']);
  t.same(orderDescriptorFiles([]), []);
});

t.test('SMM-only builds are skipped unless secure boot is asked for (they need smm=on)', async (t) => {
  const smm = parse(json({ features: ['requires-smm'] }), '/d/30-smm.json');
  const plain = parse(json(), '/d/60-plain.json');
  t.match(matchFirmware([smm, plain], q35), {
    candidates: [{ file: '/d/60-plain.json' }],
    rejected: [{ file: '/d/30-smm.json', reason: 'has feature requires-smm, not asked for' }],
  });
  t.equal(
    selectFirmware([smm, plain], { ...q35, secureBoot: true }),
    undefined,
    'secure boot needs secure-boot',
  );
  const sb = parse(json({ features: ['requires-smm', 'secure-boot'] }), '/d/50-sb.json');
  t.match(selectFirmware([sb, plain], { ...q35, secureBoot: true }), { descriptor: '/d/50-sb.json' });
});
