import t from 'tap';
import { ARCH_TABLE, ARCHES, hostArch } from '../../lib/arch/table.js';
import { parseMachineText } from '../../lib/machine/file.js';
import { chooseArch, machineArches, resolveMachine } from '../../lib/machine/resolve.js';

const SUM = `sha256:${'0'.repeat(64)}`;
const machine = (yaml: string) => parseMachineText(yaml, '/vms/m.yaml');

const perArch = machine(
  [
    'name: m',
    'cpus: 2',
    'memory: 2G',
    'disk: { size: 8G }',
    'firmware: uefi',
    'images:',
    `  x86_64: { url: "https://e.org/amd64.img", checksum: "${SUM}", firmware: bios }`,
    `  aarch64: { url: "https://e.org/arm64.img", checksum: "${SUM}" }`,
    'ports: ["2222:22", "8080:80"]',
    'userData: user-data.yaml',
    'ssh: { user: debian }',
    'readiness: cloud-init',
  ].join('\n'),
);

t.test('the file as written, for the arch asked for', async (t) => {
  const resolved = resolveMachine(perArch, { arch: 'arm64' });
  t.same(resolved, {
    name: 'm',
    arch: 'aarch64',
    cpus: 2,
    memoryMiB: 2048,
    diskSizeMiB: 8192,
    image: { kind: 'url', url: 'https://e.org/arm64.img', checksum: SUM, checksumUrl: undefined },
    kernel: undefined,
    initrd: undefined,
    append: undefined,
    firmware: 'uefi',
    ports: [
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 2222, guestPort: 22 },
      { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
    ],
    userData: { kind: 'file', path: '/vms/user-data.yaml' },
    sshUser: 'debian',
    readiness: 'cloud-init',
  });
  const x86 = resolveMachine(perArch, { arch: 'x86_64' });
  t.match(
    x86,
    { arch: 'x86_64', image: { url: 'https://e.org/amd64.img' }, firmware: 'bios' },
    "the image's firmware wins",
  );
});

t.test('command-line overrides', async (t) => {
  const resolved = resolveMachine(perArch, {
    arch: 'x86_64',
    cpus: 4,
    memory: '512M',
    diskSize: '20G',
    ports: ['2200:22', '9000:9000/udp'],
    userData: '/elsewhere/ud.yaml',
  });
  t.match(resolved, {
    cpus: 4,
    memoryMiB: 512,
    diskSizeMiB: 20480,
    userData: { kind: 'file', path: '/elsewhere/ud.yaml' },
  });
  t.same(
    resolved.ports.map((p) => `${p.hostPort}:${p.guestPort}/${p.protocol}`),
    ['8080:80/tcp', '2200:22/tcp', '9000:9000/udp'],
    'a forward of guest port 22 replaces the file’s',
  );
  t.throws(() => resolveMachine(perArch, { arch: 'x86_64', ports: ['8080:81'] }), {
    code: 'SPEC_INVALID',
    message: 'host port 8080/tcp is forwarded twice',
  });
  t.throws(() => resolveMachine(perArch, { arch: 'x86_64', memory: 'lots' }), {
    code: 'SPEC_INVALID',
    message: /memory 'lots'/,
  });
  t.throws(() => resolveMachine(perArch, { arch: 'x86_64', cpus: 0 }), {
    code: 'SPEC_INVALID',
    message: /cpus '0'/,
  });
  t.throws(() => resolveMachine(perArch, { arch: 'x86_64', ports: ['nope'] }), { code: 'SPEC_INVALID' });
});

t.test('defaults: one CPU, the arch table’s memory, the image’s disk size', async (t) => {
  const def = machine('image: { name: base }\n');
  const resolved = resolveMachine(def, { arch: 'riscv64' });
  t.match(resolved, {
    arch: 'riscv64',
    cpus: 1,
    memoryMiB: ARCH_TABLE.riscv64.defaultMemoryMiB,
    image: { kind: 'stored', name: 'base' },
  });
  t.equal(resolved.diskSizeMiB, undefined);
  t.same(resolved.ports, []);
  t.equal(resolveMachine(def).arch, hostArch() ?? 'x86_64', 'no arch anywhere: the host’s');
});

t.test('which architectures a machine has', async (t) => {
  t.same(machineArches(perArch), ['x86_64', 'aarch64']);
  t.same(machineArches(machine('image: { name: base }\n')), [...ARCHES], 'one image, no arch: any');
  t.same(
    machineArches(machine('arch: riscv64\nimage: { name: base }\n')),
    ['riscv64'],
    'one image for the file’s arch',
  );
  t.same(
    machineArches(machine(`arch: aarch64\nimage: { name: base }\nimages:\n  x86_64: { name: other }\n`)),
    ['x86_64', 'aarch64'],
  );
  t.same(machineArches(machine('kernel: vmlinuz\n')), [...ARCHES]);
  const pinned = machine('arch: aarch64\nkernel: Image\n');
  t.equal(resolveMachine(pinned).arch, 'aarch64', 'the file’s arch is the default');
  t.match(resolveMachine(pinned), { kernel: '/vms/Image', image: undefined });
});

t.test('an arch the machine has no image for is refused, saying which it has', async (t) => {
  t.throws(() => resolveMachine(perArch, { arch: 'riscv64' }), {
    code: 'SPEC_ARCH_UNSUPPORTED',
    message: "machine 'm' (/vms/m.yaml) has no image for riscv64",
    hint: 'it has x86_64, aarch64: pass --arch x86_64, or add images.riscv64 to the file',
  });
  t.throws(() => chooseArch(perArch, 'sparc'), { code: 'SPEC_ARCH_UNSUPPORTED', message: /'sparc'/ });
  t.throws(() => chooseArch(machine('arch: riscv64\nimage: { name: b }\n'), 'x86_64'), {
    code: 'SPEC_ARCH_UNSUPPORTED',
  });
});

t.test('confinement opt-outs: the file’s keys, and the command line’s over them', async (t) => {
  const optedOut = machine(['name: m', 'kernel: /k/vmlinux', 'sandbox: false', 'runAsRoot: true'].join('\n'));
  t.match(optedOut, { sandbox: false, runAsRoot: true });
  t.match(resolveMachine(optedOut), { sandbox: false, runAsRoot: true });
  t.match(resolveMachine(optedOut, { sandbox: true, runAsRoot: false }), { sandbox: true, runAsRoot: false });
  const plain = resolveMachine(machine('name: m\nkernel: /k/vmlinux'));
  t.equal(plain.sandbox, undefined, 'no key: confined as qlaunch decides');
  t.equal(plain.runAsRoot, undefined);
  t.throws(() => machine('name: m\nkernel: /k/vmlinux\nsandbox: "no"'), {
    code: 'MACHINE_INVALID',
    message: /sandbox/,
  });
});

t.test('a screen: the file’s display key, and --display over it', async (t) => {
  const screen = machine('name: m\nkernel: /k/vmlinux\ndisplay: vnc');
  t.equal(resolveMachine(screen).display, 'vnc');
  t.equal(resolveMachine(screen, { display: 'none' }).display, undefined, '--display none turns it off');
  const plain = machine('name: m\nkernel: /k/vmlinux');
  t.equal(resolveMachine(plain).display, undefined, 'no key: no screen');
  t.equal(resolveMachine(plain, { display: 'vnc' }).display, 'vnc');
  t.throws(() => resolveMachine(plain, { display: 'sdl' }), {
    code: 'SPEC_INVALID',
    message: /display 'sdl'/,
  });
  t.throws(() => machine('name: m\nkernel: /k/vmlinux\ndisplay: spice'), {
    code: 'MACHINE_INVALID',
    message: /display/,
  });
});
