// The pure builders: the same values as `run` resolves go into each target, and what a target cannot express is
// listed with its reason (or refused, when nothing sensible can be written).

import t from 'tap';
import { userDataFor } from '../../lib/cloud/recipe.js';
import type { ExportInput } from '../../lib/export/input.js';
import { toKubevirt } from '../../lib/export/kubevirt.js';
import { toNomad } from '../../lib/export/nomad.js';
import { kubevirtYaml, nomadJson } from '../../lib/export/serialize.js';
import { parseMachineText } from '../../lib/machine/file.js';
import { resolveMachine } from '../../lib/machine/resolve.js';
import { kubevirtProblems, nomadProblems } from './validate.js';

// biome-ignore lint/suspicious/noExplicitAny: assertions walk manifests by path; their shape is what is under test
type Manifest = any;

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF4aZC7Wg4JmS0Zr5a5eWQ9nT4o3bqPj4eD1rB6m1hVJ test@host';

const MACHINE = `
name: web
arch: aarch64
cpus: 3
memory: 1536M
disk: { size: 4G }
image:
  url: https://images.example/web.qcow2
  checksum: sha256:${'a'.repeat(64)}
ports: ["8080:80", "0.0.0.0:5353:53/udp", "0:22"]
userData:
  packages: [nginx]
`;

async function inputFor(text: string, overrides: Partial<ExportInput> = {}): Promise<ExportInput> {
  const machine = resolveMachine(parseMachineText(text, '/m/web.yaml'));
  const userData = (await userDataFor(machine)) as string;
  return {
    machine,
    seed: { userData, metaData: 'instance-id: iid-web\n', vendorData: '#cloud-config\n', publicKey: KEY },
    hostname: 'web',
    seedUrl: 'https://files.example/web-seed.iso',
    ...overrides,
  };
}

const vmOf = (objects: Record<string, unknown>[]) => objects[0] as Record<string, Manifest>;

t.test(
  'KubeVirt gets the resolved arch, machine, vCPUs, memory, disk, firmware, user-data and forwards',
  async (t) => {
    const input = await inputFor(MACHINE);
    const out = toKubevirt(input);
    const vm = vmOf(out.objects);
    const spec = vm.spec.template.spec;
    t.equal(spec.architecture, 'arm64');
    t.equal(spec.domain.machine.type, 'virt', "aarch64's machine from the arch table");
    t.equal(spec.domain.cpu.cores, 3);
    t.equal(spec.domain.memory.guest, '1536Mi');
    t.same(
      spec.domain.firmware,
      { bootloader: { efi: { secureBoot: false } } },
      'aarch64 boots disks by UEFI',
    );
    t.same(
      spec.domain.devices.disks.map((d: Manifest) => d.disk.bus),
      ['virtio', 'virtio'],
    );
    t.equal(vm.spec.dataVolumeTemplates[0].spec.storage.resources.requests.storage, '4096Mi');
    t.equal(vm.spec.dataVolumeTemplates[0].spec.source.http.url, 'https://images.example/web.qcow2');
    t.equal(
      spec.volumes[1].cloudInitNoCloud.userData,
      input.seed.userData,
      'the very user-data qlaunch seeds',
    );
    t.match(input.seed.userData, /^#cloud-config\npackages:\n {2}- nginx\n/);
    t.same(
      spec.domain.devices.interfaces[0].ports,
      [
        { name: 'tcp-80', port: 80, protocol: 'TCP' },
        { name: 'udp-53', port: 53, protocol: 'UDP' },
        { name: 'tcp-22', port: 22, protocol: 'TCP' },
      ],
      'masquerade ports for every forward',
    );
    const service = out.objects.find((o) => o['kind'] === 'Service') as Record<string, Manifest>;
    t.same(
      service.spec.ports.map((p: Manifest) => [p.port, p.targetPort, p.protocol]),
      [
        [8080, 80, 'TCP'],
        [5353, 53, 'UDP'],
        [22, 22, 'TCP'],
      ],
      'a Service forwards host ports to guest ports (an automatic one keeps the guest port)',
    );
    t.same(
      service.spec.ports.map((p: Manifest) => p.name),
      ['tcp-8080-80', 'udp-5353-53', 'tcp-22'],
      'names that say both ends',
    );
    const secret = out.objects.find((o) => o['kind'] === 'Secret') as Record<string, Manifest>;
    t.same(secret.stringData, { key: KEY }, 'the public key, and nothing else, goes in a Secret');
    t.same(spec.accessCredentials[0].sshPublicKey.propagationMethod, { noCloud: {} });
    const whats = out.dropped.map((d) => d.what);
    t.ok(whats.includes('port 0.0.0.0:5353:53/udp host address'), 'a non-loopback address is listed');
    t.ok(whats.includes('port 127.0.0.1:0:22 host address'), 'so is an automatic host port');
    t.ok(whats.includes('image checksum (checksum)'), 'CDI does not verify the digest: listed');
    t.ok(
      whats.some((w) => w.startsWith('vendor-data')),
      'vendor-data has no place: listed',
    );
    t.ok(
      out.dropped.every((d) => d.reason.length > 0),
      'each with its reason',
    );
    t.same(
      kubevirtProblems(kubevirtYaml(out.objects, out.comments)),
      [],
      'valid against the KubeVirt schema',
    );
  },
);

t.test(
  'two host ports to one guest port: one interface port, two Service ports, two Nomad labels',
  async (t) => {
    const input = await inputFor(MACHINE.replace(/ports: .*/, 'ports: ["8080:80", "8081:80"]'));
    const out = toKubevirt(input);
    t.same(vmOf(out.objects).spec.template.spec.domain.devices.interfaces[0].ports, [
      { name: 'tcp-80', port: 80, protocol: 'TCP' },
    ]);
    const service = out.objects.find((o) => o['kind'] === 'Service') as Manifest;
    t.same(
      service.spec.ports.map((p: Manifest) => [p.name, p.port]),
      [
        ['tcp-8080-80', 8080],
        ['tcp-8081-80', 8081],
      ],
    );
    t.same(kubevirtProblems(kubevirtYaml(out.objects, out.comments)), []);
    const task = (toNomad(input).job.Job['TaskGroups'] as Manifest)[0].Tasks[0];
    t.same(task.Config.port_map, [{ tcp_8080_80: 80, tcp_8081_80: 80 }]);
  },
);

t.test(
  'a machine named like a release (dots, a leading digit) still gets a valid Service name',
  async (t) => {
    for (const [name, hostname, expected] of [
      ['ubuntu-24.04', 'ubuntu-24-04', 'ubuntu-24-04'],
      ['9front', '9front', 'vm-9front'],
    ] as const) {
      const input = await inputFor(MACHINE.replace('name: web', `name: ${name}`), { hostname });
      const out = toKubevirt(input);
      const service = out.objects.find((o) => o['kind'] === 'Service') as Manifest;
      t.equal(service.metadata.name, expected);
      t.same(kubevirtProblems(kubevirtYaml(out.objects, out.comments)), [], `${name}: valid`);
    }
  },
);

t.test('the schema checks can fail: an unknown field and a wrong type are caught', async (t) => {
  const out = toKubevirt(await inputFor(MACHINE));
  const vm = structuredClone(vmOf(out.objects));
  vm.spec.template.spec.domain.devices.disks[0].disk.buss = 'virtio';
  vm.spec.template.spec.domain.cpu.cores = 'two';
  const problems = kubevirtProblems(kubevirtYaml([vm], []));
  t.ok(
    problems.some((p) => /buss/.test(p)),
    'unknown field',
  );
  t.ok(
    problems.some((p) => /cores/.test(p)),
    'wrong type',
  );
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ubuntu-24.04' },
    spec: { ports: [{ port: 80 }] },
  };
  t.ok(
    kubevirtProblems(kubevirtYaml([service], [])).some((p) => /metadata\.name/.test(p)),
    'a Service name with a dot',
  );
  const job = toNomad(await inputFor(MACHINE.replace('arch: aarch64', 'arch: x86_64'))).job;
  (job.Job['TaskGroups'] as Manifest)[0].Tasks[0].Config.machine = 'q35';
  (job.Job['TaskGroups'] as Manifest)[0].Tasks[0].Resources.Memory = 1;
  const nomad = nomadProblems(nomadJson(job));
  t.ok(nomad.includes('Config.machine: not a qemu driver option'));
  t.ok(nomad.includes('Tasks[0].Resources.Memory: not a field of Resources'));
});

t.test(
  'Nomad gets explicit machine type, virtio disks, -smp, cores, memory, both artifacts and port_map',
  async (t) => {
    const input = await inputFor(MACHINE.replace('arch: aarch64', 'arch: x86_64'));
    const { job, dropped } = toNomad(input);
    const task = (job.Job['TaskGroups'] as Manifest)[0].Tasks[0];
    t.equal(task.Config.machine_type, 'q35', 'never the driver default pc');
    t.equal(task.Config.drive_interface, 'virtio', 'never the driver default ide');
    t.equal(task.Config.emulator, 'x86_64');
    t.same(task.Config.args.slice(0, 2), ['-smp', '3'], '-smp whatever the accelerator');
    t.same(task.Resources, { Cores: 3, MemoryMB: 1536 });
    t.same(
      task.Artifacts.map((a: Manifest) => [a.GetterSource, a.RelativeDest, a.GetterOptions?.checksum]),
      [
        ['https://images.example/web.qcow2', 'local/disk.img', `sha256:${'a'.repeat(64)}`],
        ['https://files.example/web-seed.iso', 'local/seed.iso', undefined],
      ],
    );
    t.ok(
      task.Config.args.includes('file=local/seed.iso,if=virtio,format=raw,readonly=on'),
      'the seed is attached',
    );
    t.same(task.Config.port_map, [{ tcp_8080_80: 80, udp_5353_53: 53, tcp_22: 22 }]);
    t.same((job.Job['TaskGroups'] as Manifest)[0].Networks, [
      {
        ReservedPorts: [
          { Label: 'tcp_8080_80', Value: 8080 },
          { Label: 'udp_5353_53', Value: 5353 },
        ],
        DynamicPorts: [{ Label: 'tcp_22' }],
      },
    ]);
    const whats = dropped.map((d) => d.what);
    t.ok(whats.includes('disk.size 4096 MiB'), 'no resize on Nomad: listed');
    t.ok(whats.includes('port 8080:80 bound to 127.0.0.1'), 'loopback-only forwards are not: listed');
    t.ok(whats.includes('port 5353:53/udp as UDP only'), 'UDP-only is not: listed');
    t.same(nomadProblems(nomadJson(job)), [], 'valid against the job and driver field lists');
  },
);

t.test('Nomad on aarch64: the CPU model and machine options qlaunch gives, UEFI listed', async (t) => {
  const { job, dropped } = toNomad(await inputFor(MACHINE));
  const config = (job.Job['TaskGroups'] as Manifest)[0].Tasks[0].Config;
  t.equal(config.emulator, 'aarch64');
  t.equal(config.machine_type, 'virt');
  t.same(config.args.slice(2, 6), ['-cpu', 'host', '-machine', 'gic-version=max']);
  t.ok(
    dropped.some((d) => d.what === 'firmware uefi' && /pflash/.test(d.reason)),
    'no firmware option: listed',
  );
});

t.test('what a target cannot run is refused with the fix', async (t) => {
  const riscv = await inputFor(MACHINE.replace('arch: aarch64', 'arch: riscv64'));
  t.throws(() => toKubevirt(riscv), { code: 'EXPORT_UNSUPPORTED', message: /KubeVirt does not run riscv64/ });
  const stored = await inputFor('name: web\nimage: { name: mine }\n');
  t.throws(() => toKubevirt(stored), { code: 'EXPORT_UNSUPPORTED', hint: /--image-url/ });
  t.throws(() => toNomad(stored), { code: 'EXPORT_UNSUPPORTED', hint: /--image-url/ });
  const noSeed = await inputFor(MACHINE, { seedUrl: undefined });
  t.throws(() => toNomad(noSeed), { code: 'EXPORT_UNSUPPORTED', hint: /--seed-url/ });
});

t.test('a container disk, a firmware file and a direct kernel are carried or listed', async (t) => {
  const input = await inputFor(MACHINE, { imageUrl: 'docker://quay.io/example/web:1' });
  const out = toKubevirt(input);
  t.same(vmOf(out.objects).spec.template.spec.volumes[0], {
    name: 'rootdisk',
    containerDisk: { image: 'quay.io/example/web:1' },
  });
  t.notOk(vmOf(out.objects).spec.dataVolumeTemplates, 'no import for a container disk');
  t.ok(
    out.dropped.some((d) => d.what === 'disk.size 4096 MiB'),
    'its size cannot be set: listed',
  );
  const kernel = await inputFor(
    `name: k\narch: x86_64\nkernel: vmlinuz\nappend: console=ttyS0\nfirmware: fw.bin\nimage: { url: https://x.example/k.img, checksum: sha256:${'b'.repeat(64)} }\n`,
  );
  const whats = toKubevirt(kernel).dropped.map((d) => d.what);
  t.ok(whats.includes('kernel /m/vmlinuz'));
  t.ok(whats.includes('append "console=ttyS0"'));
  t.ok(whats.includes('firmware file /m/fw.bin'));
  t.ok(
    toNomad(kernel).dropped.some((d) => d.what === 'firmware file /m/fw.bin'),
    'Nomad lists the firmware file too',
  );
});

t.test(
  'host directories the guest mounts are listed for both targets, with what to do instead',
  async (t) => {
    const input = await inputFor(
      `${MACHINE}mounts:\n  - { host: /srv/src, guest: /src }\n  - { host: /srv/out, writable: true }\n`,
    );
    for (const [target, out] of [
      ['kubevirt', toKubevirt(input)],
      ['nomad', toNomad(input)],
    ] as const) {
      const mounts = out.dropped.filter((d) => d.what.startsWith('mount '));
      t.same(
        mounts.map((d) => d.what),
        ['mount /srv/src on /src (ro)', 'mount /srv/out on /srv/out (rw)'],
        `${target} lists each mount`,
      );
      t.ok(
        mounts.every((d) => d.reason.length > 40),
        `${target} says why and what to do instead`,
      );
    }
    t.match(toKubevirt(input).dropped.find((d) => d.what.startsWith('mount '))?.reason, /virtiofs.*PVC/);
  },
);
