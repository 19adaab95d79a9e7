import t from 'tap';
import { hostArch, parseArch } from '../../lib/arch/table.js';
import { isQlaunchError } from '../../lib/errors.js';
import { formatMiB, parseSizeMiB } from '../../lib/machine/size.js';
import {
  bootFirmware,
  exposedForwards,
  exposedWarning,
  normalizeSpec,
  parsePortForward,
} from '../../lib/machine/spec.js';

t.test('sizes', async (t) => {
  t.equal(parseSizeMiB('512'), 512);
  t.equal(parseSizeMiB(512), 512);
  t.equal(parseSizeMiB('512M'), 512);
  t.equal(parseSizeMiB('2G'), 2048);
  t.equal(parseSizeMiB('2GiB'), 2048);
  t.equal(parseSizeMiB('1.5g'), 1536);
  t.equal(parseSizeMiB('1T'), 1024 * 1024);
  t.equal(parseSizeMiB('1048576K'), 1024);
  for (const bad of ['12parsecs', '', '0', '-1G', '1.3M', 'G', '1 2G']) {
    t.throws(() => parseSizeMiB(bad, 'memory'), { code: 'SPEC_INVALID', message: /memory/ }, bad);
  }
  t.equal(formatMiB(2048), '2G');
  t.equal(formatMiB(1536), '1536M');
});

t.test('arch names', async (t) => {
  t.equal(parseArch('arm64'), 'aarch64');
  t.equal(parseArch('amd64'), 'x86_64');
  t.equal(parseArch('riscv64'), 'riscv64');
  t.throws(() => parseArch('sparc64'), { code: 'SPEC_ARCH_UNSUPPORTED', hint: /x86_64, aarch64, riscv64/ });
  t.equal(hostArch('x64'), 'x86_64');
  t.equal(hostArch('arm64'), 'aarch64');
  t.equal(hostArch('s390x'), undefined);
});

t.test('port forwards default to loopback', async (t) => {
  t.same(parsePortForward('8080:80'), {
    protocol: 'tcp',
    hostAddress: '127.0.0.1',
    hostPort: 8080,
    guestPort: 80,
  });
  t.same(parsePortForward('0.0.0.0:53:53/udp'), {
    protocol: 'udp',
    hostAddress: '0.0.0.0',
    hostPort: 53,
    guestPort: 53,
  });
  t.equal(parsePortForward('0:22').hostPort, 0);
  for (const bad of ['80', 'a:b', '70000:22', '22:0', '1:2:3:4']) {
    t.throws(() => parsePortForward(bad), { code: 'SPEC_INVALID' }, bad);
  }
});

t.test(
  'a forward with three fields needs an IPv4 address first, and the error lists the forms',
  async (t) => {
    // "2222:22:33" once stored "2222" as the host address.
    for (const bad of [
      '2222:22:33',
      '1.2.3:80:80',
      'localhost:80:80',
      '::1:80:80',
      ':80:80',
      '999.1.1.1:80:80',
    ]) {
      const error = (() => {
        try {
          parsePortForward(bad);
        } catch (e) {
          return e as { code: string; message: string; hint: string };
        }
      })();
      t.equal(error?.code, 'SPEC_INVALID', bad);
      t.match(
        error?.hint,
        /HOST:GUEST .*ADDR:HOST:GUEST .*0\.0\.0\.0:8080:80/,
        `${bad}: the fix lists the forms`,
      );
    }
    t.equal(parsePortForward('192.168.1.5:8080:80').hostAddress, '192.168.1.5');
  },
);

t.test('forwards beyond loopback are the exposed ones, with a warning naming the address', async (t) => {
  const forwards = ['8080:80', '127.0.0.2:81:81', '0.0.0.0:2280:80', '192.168.1.5:53:53/udp'].map(
    parsePortForward,
  );
  const exposed = exposedForwards(forwards);
  t.same(
    exposed.map((f) => f.hostAddress),
    ['0.0.0.0', '192.168.1.5'],
  );
  t.match(exposedWarning(exposed[0]!), /guest port 80 is reachable from other machines on 0\.0\.0\.0:2280/);
  t.match(exposedWarning(exposed[1]!), /guest port 53\/udp is reachable/);
});

t.test('normalizeSpec fills defaults and names what is wrong', async (t) => {
  const spec = normalizeSpec({ arch: 'aarch64', kernel: '/k' });
  t.equal(spec.cpus, 1);
  t.equal(spec.memoryMiB, 1024);
  t.equal(spec.accel, 'auto');
  t.same(spec.network, { user: true, forwards: [], mac: undefined, private: [] });
  t.equal(normalizeSpec({ kernel: '/k' }).arch, hostArch() ?? 'x86_64');
  t.equal(normalizeSpec({ kernel: '/k', cpus: '4', memory: '2G' }).memoryMiB, 2048);
  t.equal(normalizeSpec({ disks: ['a.QCOW2', 'b.img'] }).disks[0]?.format, 'qcow2');
  const cases: [Parameters<typeof normalizeSpec>[0], RegExp][] = [
    [{}, /nothing to boot/],
    [{ initrd: '/i', disks: ['d'] }, /initrd was given without a kernel/],
    [{ append: 'x', disks: ['d'] }, /command line was given without a kernel/],
    [{ kernel: '/k', cpus: 0 }, /cpus '0'/],
    [{ kernel: '/k', cpus: 'two' }, /cpus 'two'/],
    [{ kernel: '/k', accel: 'hvf' }, /accelerator 'hvf'/],
    [{ kernel: '/k', memory: '12parsecs' }, /memory '12parsecs'/],
    [{ disks: [''] }, /empty path/],
    [{ disks: [{ path: 'x', format: 'vmdk' as 'raw' }] }, /format 'vmdk'/],
    [{ kernel: '/k', network: { user: false }, forwards: ['1:2'] }, /need user networking/],
  ];
  for (const [input, message] of cases) {
    try {
      normalizeSpec(input);
      t.fail(`accepted ${JSON.stringify(input)}`);
    } catch (error) {
      t.ok(isQlaunchError(error) && error.hint, 'typed error with a hint');
      t.match((error as Error).message, message);
    }
  }
});

t.test('firmware: bios, uefi or a file; what the machine cannot do is refused up front', async (t) => {
  const disk = { disks: ['/d/a.img'] };
  t.equal(normalizeSpec({ ...disk, firmware: 'uefi' }).firmware, 'uefi');
  t.same(normalizeSpec({ ...disk, firmware: 'my.fd' }).firmware, { path: 'my.fd' });
  t.same(normalizeSpec({ ...disk, firmware: { path: '/fw/x.fd' } }).firmware, { path: '/fw/x.fd' });
  t.equal(normalizeSpec({ ...disk, bios: '/fw/old.bin' }).bios, '/fw/old.bin', 'bios still passes through');
  // A disk boots with the arch's firmware; a kernel boots directly unless firmware is asked for.
  const arches = ['x86_64', 'aarch64', 'riscv64'] as const;
  t.same(
    arches.map((arch) => bootFirmware(normalizeSpec({ arch, ...disk }))),
    ['bios', 'uefi', 'uefi'],
  );
  t.equal(bootFirmware(normalizeSpec({ arch: 'aarch64', kernel: '/k' })), undefined);
  t.equal(bootFirmware(normalizeSpec({ arch: 'aarch64', kernel: '/k', firmware: 'uefi' })), 'uefi');
  t.equal(bootFirmware(normalizeSpec({ arch: 'aarch64', ...disk, bios: '/fw/x' })), undefined);
  const refused: [Parameters<typeof normalizeSpec>[0], RegExp][] = [
    [{ ...disk, firmware: '' }, /firmware is empty/],
    [{ ...disk, firmware: 'uefi', bios: 'x' }, /both bios and firmware/],
    [{ arch: 'aarch64', ...disk, firmware: 'bios' }, /'bios' is not available for aarch64: .*no BIOS/],
    [
      { arch: 'riscv64', kernel: '/k', firmware: 'uefi' },
      /'uefi' and a kernel do not go together on riscv64/,
    ],
  ];
  for (const [input, message] of refused) {
    t.throws(() => normalizeSpec(input), { code: 'SPEC_INVALID', message }, JSON.stringify(input));
  }
});

t.test("machine types: the arch's alias or a versioned type of it; another machine is refused", async (t) => {
  const spec = (arch: string, machineType: string) => normalizeSpec({ arch, kernel: '/k', machineType });
  t.equal(normalizeSpec({ kernel: '/k' }).machineType, undefined, 'none given: the alias at argv time');
  t.equal(spec('x86_64', 'pc-q35-7.2').machineType, 'pc-q35-7.2');
  t.equal(spec('x86_64', 'q35').machineType, 'q35');
  t.equal(spec('aarch64', 'virt-6.2').machineType, 'virt-6.2');
  t.equal(spec('riscv64', 'virt').machineType, 'virt');
  for (const [arch, type] of [
    ['x86_64', 'pc-i440fx-7.2'],
    ['x86_64', 'pc-q35-7'],
    ['x86_64', 'virt-7.2'],
    ['aarch64', 'pc-q35-7.2'],
    ['riscv64', 'virt-7.2'],
    ['x86_64', 'q35,accel=kvm'],
  ] as const) {
    t.throws(
      () => spec(arch, type),
      { code: 'SPEC_INVALID', message: new RegExp(`'${type}'`), hint: /-machine help/ },
      `${arch} ${type}`,
    );
  }
});
