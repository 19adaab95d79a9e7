import t from 'tap';
import { normalizeSpec } from '../../lib/machine/spec.js';
import { buildQemuArgv } from '../../lib/qemu/argv.js';
import { escapeOptionValue } from '../../lib/qemu/options.js';

const sockets = { qmpSocket: '/run/q/qmp.sock', serialSocket: '/run/q/serial.sock' };

t.test('x86_64 under TCG: snapshot and the invariants that matter', async (t) => {
  const spec = normalizeSpec({
    name: 'web',
    arch: 'x86_64',
    cpus: 2,
    memory: '1G',
    kernel: '/k/vmlinux',
    initrd: '/k/initrd',
    append: 'quiet',
    disks: ['/d/root.qcow2', { path: '/d/seed.iso', format: 'raw', readOnly: true, serial: 'cidata' }],
    forwards: ['2222:22'],
  });
  const { file, args } = buildQemuArgv({
    spec,
    binary: 'qemu-system-x86_64',
    accel: { accel: 'tcg' },
    ...sockets,
  });
  t.equal(file, 'qemu-system-x86_64');
  t.matchSnapshot(args, 'argv');
  t.ok(args.includes('-S'), 'starts paused so no event is missed before QMP is up');
  t.ok(args.includes('-nodefaults') && args.includes('-no-user-config'));
  t.equal(args[args.indexOf('-append') + 1], 'console=ttyS0 quiet');
  t.equal(args[args.indexOf('-accel') + 1], 'tcg,thread=multi,tb-size=256');
  t.match(args[args.indexOf('-netdev') + 1], /hostfwd=tcp:127\.0\.0\.1:2222-:22/);
  const blockdevs = args.flatMap((a, i) => (a === '-blockdev' ? [JSON.parse(args[i + 1] ?? '')] : []));
  t.same(
    blockdevs.map((b) => [b.driver, b['read-only'], b.file.filename]),
    [
      ['qcow2', false, '/d/root.qcow2'],
      ['raw', true, '/d/seed.iso'],
    ],
  );
});

t.test('x86_64 under KVM uses the probed CPU model', async (t) => {
  const spec = normalizeSpec({ arch: 'x86_64', kernel: '/k/bzImage', network: false });
  const { args } = buildQemuArgv({
    spec,
    binary: '/usr/bin/qemu-system-x86_64',
    accel: { accel: 'kvm', cpu: 'host,-arch-capabilities' },
    ...sockets,
  });
  t.matchSnapshot(args, 'argv');
  t.same(args.slice(args.indexOf('-accel'), args.indexOf('-accel') + 4), [
    '-accel',
    'kvm',
    '-cpu',
    'host,-arch-capabilities',
  ]);
  t.notOk(args.includes('-netdev'), 'no NIC when networking is off');
  const plain = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'kvm' }, ...sockets }).args;
  t.equal(plain[plain.indexOf('-cpu') + 1], 'host');
});

t.test('aarch64 under TCG: virt with a fast CPU and the PL011 console', async (t) => {
  const spec = normalizeSpec({
    arch: 'aarch64',
    kernel: '/k/Image',
    initrd: '/k/initrd',
    disks: ['/d/x.img'],
  });
  const { args } = buildQemuArgv({
    spec,
    binary: 'qemu-system-aarch64',
    accel: { accel: 'tcg' },
    ...sockets,
  });
  t.matchSnapshot(args, 'argv');
  t.equal(args[args.indexOf('-machine') + 1], 'virt,gic-version=max');
  t.equal(args[args.indexOf('-cpu') + 1], 'cortex-a57');
  t.equal(args[args.indexOf('-append') + 1], 'console=ttyAMA0');
  t.notOk(args.includes('-bios'), 'virt boots a kernel directly without firmware');
});

t.test('riscv64 direct boot goes through OpenSBI', async (t) => {
  const spec = normalizeSpec({ arch: 'riscv64', kernel: '/k/Image', append: 'console=hvc0' });
  const { args } = buildQemuArgv({
    spec,
    binary: 'qemu-system-riscv64',
    accel: { accel: 'tcg' },
    ...sockets,
  });
  t.equal(args[args.indexOf('-bios') + 1], 'default');
  t.equal(args[args.indexOf('-append') + 1], 'console=hvc0', 'a console the user chose is kept');
  t.equal(args[args.indexOf('-cpu') + 1], 'rv64,sscofpmf=true');
});

t.test('user-controlled strings cannot inject QEMU options', async (t) => {
  t.equal(escapeOptionValue('a,b,,c'), 'a,,b,,,,c');
  const spec = normalizeSpec({
    name: 'x,debug-threads=off',
    kernel: '/k,evil/vmlinux',
    disks: ['/d/a,file=/etc/shadow'],
  });
  const { args } = buildQemuArgv({
    spec,
    binary: 'q',
    accel: { accel: 'tcg' },
    qmpSocket: '/r,x/qmp.sock',
    serialSocket: '/r,x/serial.sock',
    serialLog: '/r,x/serial.log',
  });
  t.equal(args[args.indexOf('-name') + 1], 'x,,debug-threads=off,debug-threads=on');
  t.ok(args.includes('socket,id=qmp0,path=/r,,x/qmp.sock,server=on,wait=off'));
  t.ok(args.some((a) => a.includes('logfile=/r,,x/serial.log,logappend=on')));
  const blockdev = JSON.parse(args[args.indexOf('-blockdev') + 1] ?? '');
  t.equal(blockdev.file.filename, '/d/a,file=/etc/shadow', 'JSON blockdev carries the name verbatim');
  t.equal(args[args.indexOf('-kernel') + 1], '/k,evil/vmlinux', '-kernel takes its own argv element');
});

t.test('noReboot and bios pass through', async (t) => {
  const spec = normalizeSpec({ arch: 'x86_64', disks: ['/d/a.img'], noReboot: true, bios: '/fw/OVMF.fd' });
  const { args } = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets });
  t.ok(args.includes('-no-reboot'));
  t.equal(args[args.indexOf('-bios') + 1], '/fw/OVMF.fd');
  t.notOk(args.includes('-kernel'));
});

t.test('private networks: one loopback multicast NIC each, after the user NIC', async (t) => {
  const spec = normalizeSpec({
    name: 'web',
    arch: 'x86_64',
    kernel: '/k/vmlinux',
    forwards: ['2222:22'],
    networks: ['private:alpha', 'private:beta'],
  });
  const { args } = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets });
  const values = (flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1] ?? ''] : []));
  const nics = values('-device').filter((d) => d.startsWith('virtio-net-pci'));
  t.matchSnapshot([...values('-netdev'), ...nics], 'netdevs and NICs');
  t.match(values('-netdev'), [/^user,id=net0,/, /^socket,id=priv0,mcast=239\.255\./, /^socket,id=priv1,/]);
  t.ok(
    values('-netdev')
      .slice(1)
      .every((n) => n.endsWith(',localaddr=127.0.0.1')),
    'every private netdev stays on loopback',
  );
  t.same(
    nics.map((d) => /netdev=(\w+).*mac=([0-9a-f:]+)$/.exec(d)?.slice(1)),
    [undefined, ['priv0', spec.network.private[0]?.mac], ['priv1', spec.network.private[1]?.mac]],
    'guest order: eth0 = user, eth1 = alpha, eth2 = beta, each with its MAC',
  );

  const alone = normalizeSpec({ name: 'web', kernel: '/k/vmlinux', networks: ['none', 'private:alpha'] });
  const aloneArgs = buildQemuArgv({ spec: alone, binary: 'q', accel: { accel: 'tcg' }, ...sockets }).args;
  t.equal(aloneArgs.filter((a) => a === '-netdev').length, 1, "'none': only the private NIC");
  t.match(aloneArgs[aloneArgs.indexOf('-netdev') + 1], /^socket,id=priv0,/);
});

t.test("a host network's NIC: the tap qlaunch made, no scripts; a bad tap name refused", async (t) => {
  const spec = normalizeSpec({
    name: 'web',
    kernel: '/k/vmlinux',
    network: { private: [{ name: 'lan', mac: '02:00:00:00:00:01', tap: 'qlt-0123456789a' }] },
  });
  const { args } = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets });
  t.ok(args.includes('tap,id=priv0,ifname=qlt-0123456789a,script=no,downscript=no'));
  t.ok(args.includes('virtio-net-pci,netdev=priv0,id=priv0-dev,mac=02:00:00:00:00:01'));
  t.throws(
    () =>
      normalizeSpec({
        name: 'web',
        kernel: '/k/vmlinux',
        network: { private: [{ name: 'lan', mac: '02:00:00:00:00:01', tap: 'x,script=/tmp/evil' }] },
      }),
    { code: 'SPEC_INVALID', message: /is not an interface name/ },
  );
});

t.test(
  'bridge:BR: a NIC through qemu-bridge-helper, after the private ones; a bad bridge name refused',
  async (t) => {
    const spec = normalizeSpec({
      name: 'web',
      kernel: '/k/vmlinux',
      networks: ['private:alpha', 'bridge:br0'],
    });
    const nic = spec.network.bridges?.[0];
    t.match(nic, { bridge: 'br0', mac: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/ });
    t.not(nic?.mac, spec.network.private[0]?.mac, 'its own MAC');
    const helped = {
      ...spec,
      network: {
        ...spec.network,
        bridges: [{ ...nic, bridge: 'br0', mac: nic?.mac ?? '', helper: '/usr/lib/qemu/qemu-bridge-helper' }],
      },
    };
    const { args } = buildQemuArgv({ spec: helped, binary: 'q', accel: { accel: 'tcg' }, ...sockets });
    const netdevs = args.flatMap((a, i) => (a === '-netdev' ? [args[i + 1] ?? ''] : []));
    t.match(netdevs, [
      /^user,/,
      /^socket,id=priv0,/,
      'bridge,id=br0,br=br0,helper=/usr/lib/qemu/qemu-bridge-helper',
    ]);
    t.ok(args.includes(`virtio-net-pci,netdev=br0,id=br0-dev,mac=${nic?.mac}`));
    // QEMU runs the helper itself: its seccomp filter must let it, and only then.
    const confined = (s: typeof spec) =>
      buildQemuArgv({
        spec: s,
        binary: 'q',
        accel: { accel: 'tcg' },
        ...sockets,
        confinement: { sandbox: true },
      }).args;
    t.match(confined(helped)[confined(helped).indexOf('-sandbox') + 1], /,spawn=allow,/);
    t.match(confined(spec)[confined(spec).indexOf('-sandbox') + 1], /,spawn=allow,/);
    const plain = normalizeSpec({ name: 'web', kernel: '/k/vmlinux', networks: ['private:alpha'] });
    t.match(confined(plain)[confined(plain).indexOf('-sandbox') + 1], /,spawn=deny,/);
    t.throws(
      () => normalizeSpec({ name: 'web', kernel: '/k/vmlinux', networks: ['bridge:br0,helper=/tmp/x'] }),
      {
        code: 'SPEC_INVALID',
        message: /is not an interface name/,
      },
    );
    t.throws(() => normalizeSpec({ kernel: '/k/vmlinux', networks: ['bridge:br0'] }), {
      message: /needs a VM name/,
    });
    t.notOk('bridges' in normalizeSpec({ name: 'web', kernel: '/k/vmlinux' }).network, 'no bridges, no key');
  },
);

t.test(
  'UEFI on pflash: code read-only, the VM’s variable store writable, both named on -machine',
  async (t) => {
    const spec = normalizeSpec({ arch: 'aarch64', disks: ['/d/cloud.qcow2'], firmware: 'uefi' });
    const firmware = {
      kind: 'pflash',
      executable: { path: '/fw/AAVMF_CODE.fd', format: 'raw' },
      nvram: { path: '/run/q/efivars.fd', format: 'raw' },
    } as const;
    const { args } = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets, firmware });
    t.matchSnapshot(args, 'argv');
    t.equal(args[args.indexOf('-machine') + 1], 'virt,gic-version=max,pflash0=fw-code,pflash1=fw-vars');
    const blockdevs = args.flatMap((a, i) => (a === '-blockdev' ? [JSON.parse(args[i + 1] ?? '')] : []));
    t.same(
      blockdevs
        .slice(-2)
        .map((b) => [b['node-name'], b.driver, b['read-only'], b.file.filename, b.file['read-only']]),
      [
        ['fw-code', 'raw', true, '/fw/AAVMF_CODE.fd', true],
        ['fw-vars', 'raw', false, '/run/q/efivars.fd', false],
      ],
    );
    t.notOk(args.includes('-bios') || args.includes('-kernel'));

    const withKernel = normalizeSpec({ arch: 'x86_64', kernel: '/k/bzImage', firmware: 'uefi' });
    const x86 = buildQemuArgv({
      spec: withKernel,
      binary: 'q',
      accel: { accel: 'tcg' },
      ...sockets,
      firmware,
    });
    t.equal(x86.args[x86.args.indexOf('-machine') + 1], 'q35,pflash0=fw-code,pflash1=fw-vars');
    t.ok(x86.args.includes('-kernel'), 'edk2 loads a given kernel itself (fw_cfg)');
    const codeOnly = buildQemuArgv({
      spec,
      binary: 'q',
      accel: { accel: 'tcg' },
      ...sockets,
      firmware: { kind: 'pflash', executable: firmware.executable },
    });
    t.equal(codeOnly.args[codeOnly.args.indexOf('-machine') + 1], 'virt,gic-version=max,pflash0=fw-code');
  },
);

t.test('riscv64 UEFI is U-Boot as the kernel on OpenSBI; bios is -bios default', async (t) => {
  const spec = normalizeSpec({ arch: 'riscv64', disks: ['/d/ubuntu.img'] });
  const loader = { kind: 'loader', bios: 'default', loader: '/u/uboot.elf' } as const;
  const { args } = buildQemuArgv({
    spec,
    binary: 'q',
    accel: { accel: 'tcg' },
    ...sockets,
    firmware: loader,
  });
  t.matchSnapshot(args, 'argv');
  t.same(args.slice(args.indexOf('-bios'), args.indexOf('-bios') + 4), [
    '-bios',
    'default',
    '-kernel',
    '/u/uboot.elf',
  ]);
  t.notOk(args.includes('-append'));
  const withKernel = normalizeSpec({ arch: 'riscv64', kernel: '/k/Image' });
  t.throws(
    () =>
      buildQemuArgv({ spec: withKernel, binary: 'q', accel: { accel: 'tcg' }, ...sockets, firmware: loader }),
    { code: 'SPEC_INVALID', message: /both want -kernel/ },
  );
  const bios = normalizeSpec({ arch: 'riscv64', disks: ['/d/x.img'], firmware: 'bios' });
  const plain = buildQemuArgv({ spec: bios, binary: 'q', accel: { accel: 'tcg' }, ...sockets }).args;
  t.same(plain.slice(plain.indexOf('-bios'), plain.indexOf('-bios') + 2), ['-bios', 'default']);
});

t.test(
  'BIOS: built-in means no option, a file is -bios; UEFI asked but not resolved is refused',
  async (t) => {
    const disk = normalizeSpec({ arch: 'x86_64', disks: ['/d/a.img'], firmware: 'bios' });
    const builtin = buildQemuArgv({ spec: disk, binary: 'q', accel: { accel: 'tcg' }, ...sockets });
    t.notOk(builtin.args.includes('-bios'), 'SeaBIOS needs no option');
    t.same(
      buildQemuArgv({
        spec: disk,
        binary: 'q',
        accel: { accel: 'tcg' },
        ...sockets,
        firmware: { kind: 'bios' },
      }).args,
      builtin.args,
    );
    const file = normalizeSpec({ arch: 'x86_64', disks: ['/d/a.img'], firmware: '/fw/my,bios.bin' });
    const { args } = buildQemuArgv({
      spec: file,
      binary: 'q',
      accel: { accel: 'tcg' },
      ...sockets,
      firmware: { kind: 'bios', path: '/fw/my,bios.bin' },
    });
    t.equal(args[args.indexOf('-bios') + 1], '/fw/my,bios.bin', '-bios takes its own argv element');
    for (const firmware of ['uefi', '/fw/x.fd']) {
      const spec = normalizeSpec({ arch: 'x86_64', disks: ['/d/a.img'], firmware });
      t.throws(() => buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets }), {
        code: 'SPEC_INVALID',
        message: /none was resolved/,
      });
    }
  },
);

t.test(
  'a versioned machine type goes on -machine with the options of every arch, firmware included',
  async (t) => {
    const x86 = normalizeSpec({ arch: 'x86_64', kernel: '/k/bzImage', machineType: 'pc-q35-7.2' });
    const plain = buildQemuArgv({ spec: x86, binary: 'q', accel: { accel: 'tcg' }, ...sockets }).args;
    t.equal(plain[plain.indexOf('-machine') + 1], 'pc-q35-7.2');
    const arm = normalizeSpec({
      arch: 'aarch64',
      disks: ['/d/cloud.qcow2'],
      firmware: 'uefi',
      machineType: 'virt-7.1',
    });
    const firmware = { kind: 'pflash', executable: { path: '/fw/AAVMF_CODE.fd', format: 'raw' } } as const;
    const args = buildQemuArgv({
      spec: arm,
      binary: 'q',
      accel: { accel: 'tcg' },
      ...sockets,
      firmware,
    }).args;
    t.equal(args[args.indexOf('-machine') + 1], 'virt-7.1,gic-version=max,pflash0=fw-code');
    const riscv = normalizeSpec({ arch: 'riscv64', kernel: '/k/Image', machineType: 'virt' });
    const rv = buildQemuArgv({ spec: riscv, binary: 'q', accel: { accel: 'tcg' }, ...sockets }).args;
    t.equal(rv[rv.indexOf('-machine') + 1], 'virt', 'riscv64 virt is unversioned: pinned as itself');
  },
);

t.test(
  'warm images: RAM on a file, the pinned machine type, vmgenid, waiting for incoming state',
  async (t) => {
    const spec = normalizeSpec({ arch: 'x86_64', memory: 1024, kernel: '/k/bzImage', network: false });
    const pinned = normalizeSpec({
      arch: 'x86_64',
      memory: 1024,
      kernel: '/k/bzImage',
      network: false,
      machineType: 'pc-q35-7.2',
    });
    const plain = buildQemuArgv({ spec, binary: 'q', accel: { accel: 'tcg' }, ...sockets }).args;
    t.notOk(
      plain.some((a) => /memory-backend|vmgenid|-incoming/.test(a)),
      'nothing of it by default',
    );
    const { args } = buildQemuArgv({
      spec: pinned,
      binary: 'q',
      accel: { accel: 'tcg' },
      ...sockets,
      memoryFile: { path: '/w/a,b/ram.bin', share: false },
      vmgenid: '11111111-2222-3333-4444-555555555555',
      incoming: true,
    });
    t.equal(args[args.indexOf('-machine') + 1], 'pc-q35-7.2,memory-backend=ram0');
    t.equal(
      args.find((a) => a.startsWith('memory-backend-file')),
      'memory-backend-file,id=ram0,size=1024M,mem-path=/w/a,,b/ram.bin,share=off',
      'the backend is as big as -m, its path comma-escaped, copy-on-write for a clone',
    );
    t.equal(args[args.indexOf('-m') + 1], '1024M');
    t.ok(args.includes('vmgenid,id=vmgenid0,guid=11111111-2222-3333-4444-555555555555'));
    t.same(args.slice(-2), ['-incoming', 'defer']);
  },
);
