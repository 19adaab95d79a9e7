// What an export is made from: one resolved machine and the very seed files qlaunch would boot it with.

import type { ResolvedMachine } from '../machine/resolve.js';

export const EXPORT_TARGETS = ['kubevirt', 'nomad'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

/** The NoCloud files of the seed qlaunch writes for this machine (`writeCloudFiles`). */
export interface SeedFiles {
  userData: string;
  metaData: string;
  vendorData: string;
  /** The SSH public key meta-data hands the guest, if there is one. */
  publicKey?: string | undefined;
}

export interface ExportInput {
  machine: ResolvedMachine;
  seed: SeedFiles;
  /** The guest's host name, as qlaunch puts it in meta-data. */
  hostname: string;
  /** Where the target fetches the root disk from; default: the machine's image URL. `docker://REF` is a container disk. */
  imageUrl?: string | undefined;
  /** Nomad: where its clients fetch the seed image from. */
  seedUrl?: string | undefined;
  /** Things the caller already knows will not carry over (an instance's private networks, its disk's changes). */
  dropped?: readonly NotCarried[] | undefined;
}

/** Something of the machine the target cannot express, and why: listed, never dropped silently. */
export interface NotCarried {
  what: string;
  reason: string;
}

/** `kind: url` images, or an `--image-url`: where the disk comes from, if anywhere the target can reach. */
export function imageSource(input: ExportInput): { url: string; checksum?: string | undefined } | undefined {
  if (input.imageUrl !== undefined) return { url: input.imageUrl };
  const image = input.machine.image;
  if (image?.kind !== 'url') return undefined;
  const checksum =
    image.checksum ?? (image.checksumUrl === undefined ? undefined : `file:${image.checksumUrl}`);
  return { url: image.url, checksum };
}

/** A container disk reference from `docker://REF`, or undefined for an HTTP(S) URL. */
export const containerDiskRef = (url: string): string | undefined =>
  url.startsWith('docker://') ? url.slice('docker://'.length) : undefined;

/** Each host directory the guest mounts, listed with the target's `reason` (none carries a host's directory). */
export const droppedMounts = (input: ExportInput, reason: string): NotCarried[] =>
  (input.machine.mounts ?? []).map((m) => ({
    what: `mount ${m.host} on ${m.guest} (${m.writable ? 'rw' : 'ro'})`,
    reason,
  }));

/** What every target leaves behind the same way: qlaunch's own host-side settings and direct kernel boots. */
export function commonDropped(input: ExportInput): NotCarried[] {
  const { machine } = input;
  const dropped: NotCarried[] = [...(input.dropped ?? [])];
  if (machine.image?.kind === 'build' && machine.kernel === undefined) {
    dropped.push({
      what: `the kernel and initrd of ${machine.image.name}`,
      reason:
        'qlaunch boots an image it built by its own kernel, directly: the image has no boot loader, so give --image-url a disk image that has one',
    });
  }
  if (machine.kernel !== undefined) {
    dropped.push({
      what: `kernel ${machine.kernel}`,
      reason: 'a kernel file on this host boots directly here; the target boots the disk image',
    });
  }
  if (machine.initrd !== undefined) {
    dropped.push({ what: `initrd ${machine.initrd}`, reason: 'it goes with the direct kernel boot' });
  }
  if (machine.append !== undefined) {
    dropped.push({ what: `append "${machine.append}"`, reason: 'it goes with the direct kernel boot' });
  }
  if (machine.sandbox === false || machine.runAsRoot === true) {
    dropped.push({
      what: machine.sandbox === false ? 'sandbox: false' : 'runAsRoot: true',
      reason: "it is how qlaunch confines its own QEMU; the target's confinement is its own",
    });
  }
  if (machine.readiness !== undefined) {
    dropped.push({
      what: `readiness ${typeof machine.readiness === 'string' ? machine.readiness : 'serial'}`,
      reason: 'it is what qlaunch waits for; the target has its own health checks',
    });
  }
  return dropped;
}
