// From what a user names (a template, a stored image, a disk file, a machine file) to a base disk and boot files.

import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { releaseOfImage } from '../image/debian-recipe.js';
import { checkDiskImage } from '../image/disk-check.js';
import { imageNameForArch } from '../image/image-name.js';
import { checkStoredSource, pullImage } from '../image/pull.js';
import { findImage, getImage, type ImageStore } from '../image/store.js';
import { buildStoredDebianImage } from '../image/store-build.js';
import { shownUrl } from '../image/url-text.js';
import { loadMachineFile, type MachineDefinition } from '../machine/file.js';
import type { MountInput } from '../machine/mounts.js';
import { type MachineOverrides, type ResolvedMachine, resolveMachine } from '../machine/resolve.js';
import type { Firmware } from '../machine/spec.js';

export interface BaseDisk {
  path: string;
  format: string;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  defaultUser?: string | undefined;
}

/** What a caller names to boot: an image (template, stored image, disk file) or a machine file, plus overrides. */
export interface MachineChoice extends MachineOverrides {
  image?: string | undefined;
  machine?: string | undefined;
}

/** A cloud guest as `run IMAGE`, `create` and `launch({ image })` describe it: the machine, the accelerator, firmware. */
export interface CloudGuestInput extends MachineChoice {
  accel?: string | undefined;
  /** bios, uefi or a firmware file, instead of the machine's (default: what the arch boots disks with). */
  firmware?: string | Firmware | undefined;
  /** A versioned QEMU machine type (`pc-q35-7.2`) instead of the machine's (default: the arch's alias). */
  machineType?: string | undefined;
  /** Host directories for the guest, after the machine file's (`HOST[:GUEST][:OPTIONS]`, relative to the cwd). */
  mounts?: readonly MountInput[] | undefined;
}

/** The machine `choice` names, resolved for one architecture with its overrides applied. */
export async function chooseMachine(choice: MachineChoice, store: ImageStore): Promise<ResolvedMachine> {
  const def = choice.machine
    ? await loadMachineFile(choice.machine)
    : await machineFor(choice.image ?? '', store);
  return resolveMachine(def, choice);
}

/** A machine definition for a name: a template first, then a disk file (a path), then a stored image. */
export async function machineFor(name: string, store: ImageStore): Promise<MachineDefinition> {
  const { findTemplate } = await import('../machine/templates.js');
  // One lookup loads only the named template; its "unknown" error (with suggestions) is kept for the end.
  let unknown: unknown;
  try {
    return await findTemplate(name);
  } catch (error) {
    if (!isQlaunchError(error, ErrorCode.MACHINE_UNKNOWN)) throw error;
    unknown = error;
  }
  // A path names a disk file (image names cannot hold a slash).
  if (name.includes('/')) {
    if ((await stat(name).catch(() => undefined))?.isFile()) {
      return bareMachine(basename(name).replace(/\.[^.]*$/, ''), { kind: 'file', path: name });
    }
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, `disk image ${name} does not exist`, {
      hint: 'check the path, or name a template or stored image (`qlaunch image ls`)',
    });
  }
  const stored = await findImage(store, name);
  // Its recorded architecture is the machine's: `--arch` asking for another is refused by name.
  if (stored) return { ...bareMachine(name, { kind: 'stored', name }), arch: stored.arch };
  throw unknown;
}

const bareMachine = (name: string, image: NonNullable<MachineDefinition['image']>): MachineDefinition => ({
  name,
  source: name,
  image,
  images: {},
  ports: [],
});

/** The base disk for a resolved machine: pulled (verified) or built into the store the first time it is needed. */
export async function baseDisk(
  machine: ResolvedMachine,
  store: ImageStore,
  options: { onProgress?: ((line: string) => void) | undefined; signal?: AbortSignal | undefined },
): Promise<BaseDisk> {
  const image = machine.image;
  if (!image) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, `machine ${machine.name} has no disk image`, {
      hint: 'give it an image, or boot a kernel with `qlaunch run --kernel FILE`',
    });
  }
  const say = options.onProgress ?? (() => {});
  switch (image.kind) {
    case 'file': {
      // The same checks as `image import`: no text files, archives or damaged qcow2 as a root disk.
      const info = await checkDiskImage(image.path);
      // Absolute, as the config records it: later commands run from anywhere.
      return { path: resolve(image.path), format: info.format };
    }
    case 'stored': {
      const stored = await getImage(store, image.name);
      if (stored.arch !== undefined && stored.arch !== machine.arch) {
        throw new QlaunchError(
          ErrorCode.SPEC_ARCH_UNSUPPORTED,
          `image ${stored.name} is for ${stored.arch}, not ${machine.arch}`,
          {
            hint: `run it as ${stored.arch} (--arch ${stored.arch}), or use an image made for ${machine.arch}`,
          },
        );
      }
      return fromStored(stored);
    }
    case 'build': {
      // Built images are stored per architecture too (debian-12-local, debian-12-local-aarch64).
      const name = imageNameForArch(image.name, machine.arch);
      const found = await findImage(store, name);
      if (found) return fromStored(found);
      say(`building ${name} from Debian packages (once; it is kept in ${store.dir})`);
      const built = await buildStoredDebianImage(store, {
        name,
        release: releaseOfImage(image.recipe),
        arch: machine.arch,
        onProgress: (line: string) => say(line),
        ...(options.signal && { signal: options.signal }),
      });
      return fromStored(built);
    }
    case 'url': {
      const name = imageNameForArch(machine.name, machine.arch);
      const found = await findImage(store, name);
      if (found) {
        // Two machine files may name different images alike: reuse only the one this URL names.
        await checkStoredSource(found, image);
        return fromStored(found);
      }
      say(`downloading ${shownUrl(image.url)}`);
      const pulled = await pullImage({
        url: image.url,
        name,
        store,
        checksum: image.checksum,
        checksumUrl: image.checksumUrl,
        arch: machine.arch,
        signal: options.signal,
      });
      return fromStored(pulled.image);
    }
  }
}

function fromStored(image: Awaited<ReturnType<typeof getImage>>): BaseDisk {
  // A warm image's layer is a saved, running guest's disk: booting it cold would skip what was saved with it.
  if (image.origin === 'warm') {
    throw new QlaunchError(
      ErrorCode.WARM_UNSUPPORTED,
      `image ${image.name} is a warm image: it is cloned, not booted as a base disk`,
      {
        hint: `clone it with \`qlaunch run ${image.name}\` or launch({ image: '${image.name}' }); an instance is created from its base, ${image.base ?? 'the image it was warmed from'}`,
      },
    );
  }
  return {
    path: image.path,
    format: image.format,
    kernel: image.kernelPath,
    initrd: image.initrdPath,
    append: image.append,
    defaultUser: image.defaultUser,
  };
}
