// The one recipe that turns an image into a bootable cloud guest, for throwaway runs and instances alike: a qcow2
// overlay on the read-only base, a client key, and a NoCloud seed that gives the key to the guest.

import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  buildCloudConfig,
  buildMetaData,
  buildNetworkConfig,
  type PrivateLink,
} from '../cidata/cloud-config.js';
import { type NoCloudFiles, writeSeedImage } from '../cidata/seed.js';
import { loadUserData } from '../cidata/seed-inputs.js';
import { buildVendorData, type FstabEntry } from '../cidata/vendor-data.js';
import { GUEST_FILES } from '../files.js';
import { createOverlay } from '../image/qemu-img.js';
import type { ResolvedMachine } from '../machine/resolve.js';
import type { DiskSpec } from '../machine/spec.js';
import type { BaseDisk } from './machine-choice.js';
import { createKeyPair, type KeyPair } from './ssh-key.js';

/** The block node of the guest's root overlay (argv names disks disk0, disk1, … in order; the overlay is first). */
export const ROOT_DISK_NODE = 'disk0';

/** A valid host name (RFC 1123 label) from a machine name. */
export const hostnameFor = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '') || 'qlaunch';

/**
 * The user-data the guest gets: the user's file (checked, passed byte for byte; "-" reads standard input), the
 * machine's inline config, or ours.
 */
export async function userDataFor(machine: ResolvedMachine): Promise<Uint8Array | string> {
  const source = machine.userData;
  if (source?.kind === 'file') return (await loadUserData(source.path)).data;
  if (source?.kind === 'inline') return `#cloud-config\n${stringify(source.cloudConfig, { lineWidth: 0 })}`;
  return buildCloudConfig({});
}

/** The guest's disks, root overlay first: what every boot of a cloud guest attaches. */
export const cloudDisks = (dir: string): (Partial<DiskSpec> & { path: string })[] => [
  { path: join(dir, GUEST_FILES.overlay), format: 'qcow2' },
  { path: join(dir, GUEST_FILES.seed), format: 'raw', readOnly: true, serial: 'cidata' },
];

/** Boot files a cloud guest takes from its machine, else from its base image. */
export const cloudBoot = (machine: ResolvedMachine, base: BaseDisk | undefined) => ({
  kernel: machine.kernel ?? base?.kernel,
  initrd: machine.kernel ? machine.initrd : base?.initrd,
  append: machine.append ?? base?.append,
});

/** The user SSH logs in as. */
export const sshUserFor = (machine: ResolvedMachine, base: BaseDisk): string =>
  machine.sshUser ?? base.defaultUser ?? 'root';

/** A host directory as the guest mounts it: its tag, mount point, transport and access. */
export interface GuestMount {
  tag: string;
  guest: string;
  transport: '9p' | 'virtiofs';
  writable: boolean;
}

// 512 KiB messages: 9p's default (8 KiB) makes large reads crawl.
const NINE_P_OPTIONS = 'trans=virtio,version=9p2000.L,msize=524288';

/** The fstab line cloud-init writes for a mount (pure); `nofail` so a guest booted without it still boots. */
export function fstabEntry(mount: GuestMount): FstabEntry {
  const access = mount.writable ? 'rw' : 'ro';
  return mount.transport === '9p'
    ? [mount.tag, mount.guest, '9p', `${NINE_P_OPTIONS},${access},nofail`, '0', '0']
    : [mount.tag, mount.guest, 'virtiofs', `${access},nofail`, '0', '0'];
}

export interface CloudFilesInput {
  machine: ResolvedMachine;
  base: BaseDisk;
  userData: Uint8Array | string;
  /** Where the overlay, seed and key go (a run directory or an instance's). */
  dir: string;
  hostname: string;
  /** A fixed instance-id (an instance keeps one for life); default: a fresh one per seed. */
  instanceId?: string | undefined;
  keyComment: string;
  /** fsync the seed: an instance's must survive a host crash; a throwaway run's is read at once and deleted. */
  durable: boolean;
  /** Host directories the guest mounts at boot. */
  mounts?: readonly GuestMount[] | undefined;
  /** The guest's NICs, when it is on private networks: without, the seed has no network-config (DHCP on the first). */
  network?: GuestNetwork | undefined;
}

/** The MAC of a guest's user-mode NIC, and its links on private networks with their static addresses. */
export interface GuestNetwork {
  mac: string;
  privateLinks: readonly PrivateLink[];
  /** The MACs of its NICs on host bridges: DHCP on each. */
  bridgeMacs?: readonly string[] | undefined;
}

/**
 * The seed's files besides meta-data (pure): the user-data byte for byte, qlaunch's vendor-data, and a network-config
 * only when the guest has private links (the image's own fallback, DHCP on the first NIC, serves the rest).
 */
export function cloudSeedFiles(
  metaData: string,
  userData: Uint8Array | string,
  mounts: readonly GuestMount[],
  network: GuestNetwork | undefined,
): NoCloudFiles {
  return {
    'meta-data': metaData,
    'user-data': userData,
    // qlaunch's own boot-time repairs ride in vendor-data, so the user's user-data stays byte for byte.
    'vendor-data': buildVendorData(mounts.map(fstabEntry)),
    ...(network &&
      (network.privateLinks.length > 0 || (network.bridgeMacs ?? []).length > 0) && {
        'network-config': buildNetworkConfig(network.mac, network.privateLinks, network.bridgeMacs),
      }),
  };
}

/** Lay down the overlay, key and seed in `dir`; returns the key the guest will accept. */
export async function writeCloudFiles(input: CloudFilesInput): Promise<KeyPair> {
  const { machine, base, dir } = input;
  await createOverlay(base.path, base.format, join(dir, GUEST_FILES.overlay), {
    sizeMiB: machine.diskSizeMiB,
  });
  const key = await createKeyPair(dir, { comment: input.keyComment, name: GUEST_FILES.key });
  const metaData = buildMetaData({
    ...(input.instanceId === undefined ? {} : { instanceId: input.instanceId }),
    hostname: input.hostname,
    publicKeys: [key.publicKeyText.trim()],
  });
  await writeSeedImage(
    join(dir, GUEST_FILES.seed),
    { files: cloudSeedFiles(metaData, input.userData, input.mounts ?? [], input.network) },
    { durable: input.durable },
  );
  return key;
}
