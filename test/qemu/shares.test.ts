// Host directories in the argv: 9p and virtiofs devices, guest RAM shared for virtiofs, nothing without mounts.
import t from 'tap';
import { normalizeSpec } from '../../lib/machine/spec.js';
import { buildQemuArgv } from '../../lib/qemu/argv.js';

const base = {
  binary: 'q',
  accel: { accel: 'tcg' as const },
  qmpSocket: '/r/qmp',
  serialSocket: '/r/serial',
};
const spec = normalizeSpec({ arch: 'x86_64', kernel: '/k', memory: 512, network: false });

t.test('no mounts: the argv has no share device and private RAM', async (t) => {
  const args = buildQemuArgv({ ...base, spec }).args.join(' ');
  t.notMatch(args, /fsdev|9p|vhost-user|memory-backend/);
  t.same(buildQemuArgv({ ...base, spec, shares: [] }).args, buildQemuArgv({ ...base, spec }).args);
});

t.test('9p: an fsdev QEMU serves, read-only enforced by QEMU', async (t) => {
  const { args } = buildQemuArgv({
    ...base,
    spec,
    shares: [
      { transport: '9p', tag: 'm0', path: '/srv/a,b', readOnly: true },
      { transport: '9p', tag: 'm1', path: '/srv/c', readOnly: false },
    ],
  });
  const fsdevs = args.flatMap((a, i) => (a === '-fsdev' ? [args[i + 1]] : []));
  t.same(fsdevs, [
    'local,id=fs-m0,path=/srv/a,,b,security_model=none,multidevs=remap,readonly=on',
    'local,id=fs-m1,path=/srv/c,security_model=none,multidevs=remap',
  ]);
  t.ok(args.includes('virtio-9p-pci,fsdev=fs-m0,mount_tag=m0,id=m0-dev'));
  t.notMatch(args.join(' '), /memory-backend/, '9p needs no shared memory');
});

t.test('virtiofs: a vhost-user device on virtiofsd socket, guest RAM on shared memfd', async (t) => {
  const { args } = buildQemuArgv({
    ...base,
    spec,
    shares: [{ transport: 'virtiofs', tag: 'm0', socket: '/r/virtiofs-m0.sock' }],
  });
  t.ok(args.includes('socket,id=vfs-m0,path=/r/virtiofs-m0.sock'));
  t.ok(args.includes('vhost-user-fs-pci,chardev=vfs-m0,tag=m0,id=m0-dev'));
  t.ok(args.includes('memory-backend-memfd,id=ram0,size=512M,share=on'));
  t.match(args[args.indexOf('-machine') + 1], /,memory-backend=ram0$/);
  t.throws(
    () =>
      buildQemuArgv({
        ...base,
        spec,
        memoryFile: { path: '/w/ram', share: false },
        shares: [{ transport: 'virtiofs', tag: 'm0', socket: '/r/s' }],
      }),
    { code: 'SPEC_INVALID', message: /warm guest cannot have virtiofs mounts/ },
  );
});

t.test(
  'aarch64 and riscv64 virt: the same PCI devices, guest RAM shared beside pflash or a boot loader',
  async (t) => {
    const shares = [
      { transport: '9p', tag: 'm0', path: '/srv/a', readOnly: true },
      { transport: 'virtiofs', tag: 'm1', socket: '/r/virtiofs-m1.sock' },
    ] as const;
    const devices = (args: readonly string[]) =>
      args.flatMap((a, i) => (a === '-device' ? [args[i + 1]] : []));
    const machine = (args: readonly string[]) =>
      args.flatMap((a, i) => (a === '-machine' ? [args[i + 1]] : [])).join(' ');
    const pflash = {
      kind: 'pflash',
      executable: { path: '/fw/AAVMF_CODE.fd', format: 'raw' },
      nvram: { path: '/r/efivars.fd', format: 'raw' },
    } as const;
    const arm = normalizeSpec({ arch: 'aarch64', disks: ['/d/a.qcow2'], memory: 2048, firmware: 'uefi' });
    const armArgs = buildQemuArgv({ ...base, spec: arm, firmware: pflash, shares }).args;
    t.equal(
      machine(armArgs),
      'virt,gic-version=max,pflash0=fw-code,pflash1=fw-vars,memory-backend=ram0 dump-guest-core=off',
    );
    const loader = { kind: 'loader', bios: 'default', loader: '/u/uboot.elf' } as const;
    const rv = normalizeSpec({ arch: 'riscv64', disks: ['/d/r.qcow2'], memory: 2048, firmware: 'uefi' });
    const rvArgs = buildQemuArgv({ ...base, spec: rv, firmware: loader, shares }).args;
    t.equal(machine(rvArgs), 'virt,memory-backend=ram0 dump-guest-core=off');
    const rvKernel = normalizeSpec({ arch: 'riscv64', kernel: '/k/Image', memory: 2048 });
    t.equal(
      machine(buildQemuArgv({ ...base, spec: rvKernel, shares }).args),
      'virt,memory-backend=ram0 dump-guest-core=off',
    );
    for (const args of [armArgs, rvArgs]) {
      // virt's PCIe host bridge takes the -pci devices as on q35; the backend is as big as -m.
      t.same(
        devices(args).filter((d) => /9p|vhost-user/.test(d ?? '')),
        [
          'virtio-9p-pci,fsdev=fs-m0,mount_tag=m0,id=m0-dev',
          'vhost-user-fs-pci,chardev=vfs-m1,tag=m1,id=m1-dev',
        ],
      );
      t.ok(args.includes('memory-backend-memfd,id=ram0,size=2048M,share=on'));
      t.equal(args[args.indexOf('-m') + 1], '2048M');
    }
  },
);
