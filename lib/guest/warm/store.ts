// Warm images in the image store, by name: `qlaunch image warm IMAGE --as NAME` saves one there (image.json says
// `origin: warm` and which image it stands on); `launch({ image: NAME })` finds it there.

import { stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ErrorCode, isQlaunchError, QlaunchError } from '../../errors.js';
import { formatChecksum, hashFile } from '../../image/checksum.js';
import { checkImageName, IMAGE_NAME } from '../../image/image-name.js';
import { addImage, type ImageStore, openImageStore, type StoredImage } from '../../image/store.js';
import { findTemplate } from '../../machine/templates.js';
import type { LaunchInput } from '../launch-input.js';
import type { LaunchOptions } from '../launch-options.js';
import { WARM_FILES } from './files.js';
import type { WarmRecord } from './record.js';
import { readWarmRecord } from './restore.js';
import { saveWarm } from './save.js';

export interface WarmStoredInput extends LaunchInput {
  /** The image (template, stored image or disk file) to boot and warm. */
  image: string;
  /** The warm image's name in the store. */
  name: string;
  /** Run in the guest (argv, no shell) once it is ready, before it is saved. */
  prep?: readonly string[] | undefined;
}

/** The stored image a disk path lies in, by name; undefined for a disk outside the store. */
function storedNameOf(store: ImageStore, path: string): string | undefined {
  const [name, ...rest] = relative(store.dir, path).split(sep);
  return name && rest.length > 0 && IMAGE_NAME.test(name) ? name : undefined;
}

/** A template name stays the template's: a warm image of that name could never be reached by it. */
async function refuseTemplateName(name: string): Promise<void> {
  const template = await findTemplate(name).catch((error: unknown) => {
    if (isQlaunchError(error, ErrorCode.MACHINE_UNKNOWN)) return undefined;
    throw error;
  });
  if (template) {
    throw new QlaunchError(ErrorCode.IMAGE_EXISTS, `${name} is the name of a machine template`, {
      hint: `give the warm image a name of its own (--as ${name}-warm)`,
    });
  }
}

/** Boot `input.image`, prepare and save it as the warm image `input.name` in the store; nothing half-made stays. */
export async function warmStoredImage(
  input: WarmStoredInput,
  options: LaunchOptions & { store?: ImageStore | undefined } = {},
): Promise<{ image: StoredImage; record: WarmRecord }> {
  const { name, store = openImageStore(), ...rest } = { ...input, store: options.store };
  checkImageName(name);
  await refuseTemplateName(name);
  let record: WarmRecord | undefined;
  const image = await addImage(
    store,
    name,
    async (dir) => {
      const saved = await saveWarm(rest, dir, options);
      record = saved.record;
      const layer = join(dir, WARM_FILES.layer);
      const base = storedNameOf(store, saved.record.layers[1]?.path ?? '');
      return {
        format: 'qcow2',
        disk: WARM_FILES.layer,
        virtualSize: saved.virtualSize,
        size: (await stat(layer)).size,
        checksum: formatChecksum(await hashFile(layer, 'sha256')),
        origin: 'warm',
        source: input.image,
        arch: saved.record.arch,
        defaultUser: saved.record.ssh.user,
        ...(base === undefined ? {} : { base }),
      };
    },
    options.signal,
    // QEMU opens the RAM file writable (mapped private: never written); ssh takes only a private key.
    { privateFiles: [WARM_FILES.ram, WARM_FILES.key] },
  );
  if (!record)
    throw new QlaunchError(ErrorCode.WARM_SAVE_FAILED, 'no record was saved', { hint: 'report this' });
  return { image, record };
}

/** Why the stored warm image in `dir` cannot be cloned (a damaged record, a base gone), or undefined. */
export async function warmImageProblem(dir: string): Promise<string | undefined> {
  let record: WarmRecord;
  try {
    record = await readWarmRecord(dir);
  } catch (error) {
    return (error as Error).message;
  }
  const base = record.layers[1]?.path;
  if (base === undefined) return 'its record names no base disk';
  return stat(base).then(
    () => undefined,
    () => `the base disk it stands on, ${base}, is gone`,
  );
}
