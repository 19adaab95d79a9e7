// A resolved machine → KubeVirt objects (a VirtualMachine, a Service for its forwards, a Secret for its key): pure.

import { ARCH_TABLE, type Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { PortForward } from '../machine/spec.js';
import {
  commonDropped,
  containerDiskRef,
  droppedMounts,
  type ExportInput,
  imageSource,
  type NotCarried,
} from './input.js';

type KubeObject = Record<string, unknown>;

export interface KubevirtExport {
  /** One YAML document each, in this order. */
  objects: KubeObject[];
  /** Lines for the manifest's head: what to know before applying it. */
  comments: string[];
  dropped: NotCarried[];
}

// KubeVirt names architectures as Go does.
const KUBEVIRT_ARCH: Partial<Record<Arch, string>> = { x86_64: 'amd64', aarch64: 'arm64' };

/** A port name: at most 15 lower-case letters, digits and dashes (an IANA service name, as Kubernetes wants). */
const portName = (f: PortForward): string => `${f.protocol}-${f.guestPort}`;
// Two forwards may reach one guest port from two host ports: the Service's port names must still differ.
const servicePortName = (f: PortForward): string =>
  f.hostPort === 0 || f.hostPort === f.guestPort ? portName(f) : `${f.protocol}-${f.hostPort}-${f.guestPort}`;

const mib = (n: number): string => `${n}Mi`;

function firmwareOf(input: ExportInput, dropped: NotCarried[]): KubeObject | undefined {
  const { machine } = input;
  const firmware =
    machine.firmware ?? (machine.kernel === undefined ? ARCH_TABLE[machine.arch].diskFirmware : undefined);
  if (firmware === undefined) return undefined;
  if (firmware === 'uefi') {
    // KubeVirt's EFI defaults to Secure Boot, which needs SMM; qlaunch's UEFI boots without it.
    return { bootloader: { efi: { secureBoot: false } } };
  }
  if (firmware === 'bios') return { bootloader: { bios: {} } };
  dropped.push({
    what: `firmware file ${firmware.path}`,
    reason: 'KubeVirt boots its own BIOS or EFI firmware, not a file from this host; the VM gets its default',
  });
  return undefined;
}

/** The root disk's volume, and the DataVolume it is imported into when it comes from a URL. */
function rootDisk(input: ExportInput, dropped: NotCarried[]): { volume: KubeObject; template?: KubeObject } {
  const { machine } = input;
  const source = imageSource(input);
  if (!source) {
    throw new QlaunchError(
      ErrorCode.EXPORT_UNSUPPORTED,
      `machine ${machine.name}'s image is ${machine.image ? `a ${machine.image.kind === 'file' ? 'disk file' : 'stored image'} on this host` : 'missing'}: a cluster cannot fetch it`,
      {
        hint: 'give --image-url https://… (imported by CDI) or --image-url docker://REGISTRY/IMAGE (a containerDisk)',
      },
    );
  }
  const container = containerDiskRef(source.url);
  if (container !== undefined) {
    if (machine.diskSizeMiB !== undefined) {
      dropped.push({
        what: `disk.size ${machine.diskSizeMiB} MiB`,
        reason: 'a containerDisk is an ephemeral copy of the image at its own size',
      });
    }
    return { volume: { name: 'rootdisk', containerDisk: { image: container } } };
  }
  if (source.checksum !== undefined) {
    dropped.push({
      what: `image checksum (${source.checksum.startsWith('file:') ? 'checksumUrl' : 'checksum'})`,
      reason: "CDI's HTTP import does not verify a digest",
    });
  }
  const storage: KubeObject =
    machine.diskSizeMiB === undefined
      ? {}
      : { resources: { requests: { storage: mib(machine.diskSizeMiB) } } };
  return {
    volume: { name: 'rootdisk', dataVolume: { name: `${machine.name}-rootdisk` } },
    template: {
      metadata: { name: `${machine.name}-rootdisk` },
      spec: { source: { http: { url: source.url } }, storage },
    },
  };
}

/** The VirtualMachine (and Service, Secret) that boot what `qlaunch run` would, as KubeVirt says it. */
export function toKubevirt(input: ExportInput): KubevirtExport {
  const { machine } = input;
  const dropped = commonDropped(input);
  dropped.push(
    ...droppedMounts(
      input,
      'KubeVirt shares a volume (a PersistentVolumeClaim, ConfigMap or Secret) over virtiofs, never a directory of this host: put its content in a PVC, add it under domain.devices.filesystems with virtiofs, and mount its tag in the guest',
    ),
  );
  const name = machine.name;
  const architecture = KUBEVIRT_ARCH[machine.arch];
  if (architecture === undefined) {
    throw new QlaunchError(ErrorCode.EXPORT_UNSUPPORTED, `KubeVirt does not run ${machine.arch} guests`, {
      hint: `export it for ${Object.keys(KUBEVIRT_ARCH).join(' or ')} (--arch), or to Nomad (--to nomad)`,
    });
  }
  const disk = rootDisk(input, dropped);
  const firmware = firmwareOf(input, dropped);
  const labels = { 'kubevirt.io/vm': name };
  const guestPorts = machine.ports.filter(
    (f, i) => machine.ports.findIndex((g) => portName(g) === portName(f)) === i,
  );
  const ports = guestPorts.map((f) => ({
    name: portName(f),
    port: f.guestPort,
    protocol: f.protocol.toUpperCase(),
  }));
  for (const f of machine.ports) {
    if (f.hostAddress !== '127.0.0.1' || f.hostPort === 0) {
      dropped.push({
        what: `port ${f.hostAddress}:${f.hostPort}:${f.guestPort}${f.protocol === 'udp' ? '/udp' : ''} host address`,
        reason:
          'a Service has no host address: it listens inside the cluster (kubectl port-forward brings it here)',
      });
    }
  }
  const cloudInit: KubeObject = { userData: input.seed.userData };
  dropped.push({
    what: 'vendor-data (the SSH host key repair qlaunch runs at boot)',
    reason: 'cloudInitNoCloud has no vendor-data; add its bootcmd to your user-data if you want it',
  });
  const keySecret = `${name}-ssh-key`;
  const accessCredentials =
    input.seed.publicKey === undefined
      ? undefined
      : [
          {
            sshPublicKey: {
              source: { secret: { secretName: keySecret } },
              propagationMethod: { noCloud: {} },
            },
          },
        ];
  const vm: KubeObject = {
    apiVersion: 'kubevirt.io/v1',
    kind: 'VirtualMachine',
    metadata: { name, labels },
    spec: {
      runStrategy: 'Always',
      ...(disk.template && { dataVolumeTemplates: [disk.template] }),
      template: {
        metadata: { labels },
        spec: {
          architecture,
          hostname: input.hostname,
          domain: {
            machine: { type: machine.machineType ?? ARCH_TABLE[machine.arch].machine },
            cpu: { cores: machine.cpus },
            memory: { guest: mib(machine.memoryMiB) },
            ...(firmware && { firmware }),
            devices: {
              disks: [
                { name: 'rootdisk', disk: { bus: 'virtio' } },
                { name: 'cloudinitdisk', disk: { bus: 'virtio' } },
              ],
              interfaces: [{ name: 'default', masquerade: {}, ...(ports.length > 0 && { ports }) }],
            },
          },
          networks: [{ name: 'default', pod: {} }],
          ...(accessCredentials && { accessCredentials }),
          volumes: [disk.volume, { name: 'cloudinitdisk', cloudInitNoCloud: cloudInit }],
        },
      },
    },
  };
  const objects: KubeObject[] = [vm];
  if (machine.ports.length > 0) {
    // A Service is named by a DNS label that starts with a letter: no dots (ubuntu-24.04), no leading digit.
    const serviceName = /^[a-z]/.test(input.hostname) ? input.hostname : `vm-${input.hostname}`.slice(0, 63);
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName.replace(/-+$/, ''), labels },
      spec: {
        selector: labels,
        ports: machine.ports.map((f) => ({
          name: servicePortName(f),
          protocol: f.protocol.toUpperCase(),
          port: f.hostPort === 0 ? f.guestPort : f.hostPort,
          targetPort: f.guestPort,
        })),
      },
    });
  }
  if (input.seed.publicKey !== undefined) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: keySecret, labels },
      type: 'Opaque',
      stringData: { key: input.seed.publicKey },
    });
  }
  const comments = [
    `qlaunch export of machine ${name} (${machine.arch}) for KubeVirt: kubectl apply -f FILE`,
    'Under emulation (nodes without /dev/kvm) KubeVirt needs useEmulation: set',
    '  spec.configuration.developerConfiguration.useEmulation: true in the KubeVirt CR.',
    ...(disk.template
      ? ['The root disk is imported over HTTP by CDI (the Containerized Data Importer).']
      : []),
  ];
  return { objects, comments, dropped };
}
