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
