// Machine files: YAML or JSON text → a checked MachineDefinition (sizes and ports parsed, paths resolved), or an
// error naming the file, the field, its line and the fix.

import { type FileHandle, open, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { fieldText, problemsFromIssues } from './file-issues.js';
import { type MachineFile, type MachineImageSource, machineFileSchema } from './file-schema.js';
import { locate, type MachineProblem, machineFileError, parseMachineYaml } from './file-yaml.js';
import { type MountSpec, normalizeMounts } from './mounts.js';
import { parseSizeMiB } from './size.js';
import { type Firmware, type PortForward, parsePortForward } from './spec.js';

export type { Firmware };

/** Where a machine's root disk comes from. */
export type MachineImage = (
  | { kind: 'stored'; name: string }
  | { kind: 'url'; url: string; checksum?: string | undefined; checksumUrl?: string | undefined }
  /** Made by `qlaunch image build RECIPE` and stored as `name`; such images boot their own kernel directly. */
  | { kind: 'build'; recipe: string; name: string }
  | { kind: 'file'; path: string }
) & { firmware?: Firmware | undefined };

export type UserDataSource =
  | { kind: 'file'; path: string }
  | { kind: 'inline'; cloudConfig: Record<string, unknown> };

export type Readiness = 'cloud-init' | 'ssh' | { serial: string };

/** A checked machine file. Paths are resolved against the file's directory; sizes are MiB. */
export interface MachineDefinition {
  name: string;
  description?: string | undefined;
  /** The file it was read from, for messages. */
  source: string;
  /** The architecture the file asks for; undefined means the host's (or whatever the caller asks). */
  arch?: Arch | undefined;
  cpus?: number | undefined;
  memoryMiB?: number | undefined;
  diskSizeMiB?: number | undefined;
  /** The image for any architecture without its own entry in `images`. */
  image?: MachineImage | undefined;
  images: Partial<Record<Arch, MachineImage>>;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  firmware?: Firmware | undefined;
  /** QEMU's machine type, when the file names a versioned one (`pc-q35-7.2`) instead of the arch's alias. */
  machineType?: string | undefined;
  ports: PortForward[];
  userData?: UserDataSource | undefined;
  sshUser?: string | undefined;
  readiness?: Readiness | undefined;
  /** false: QEMU without its seccomp filter. */
  sandbox?: boolean | undefined;
  /** true: under root, QEMU stays root. */
  runAsRoot?: boolean | undefined;
  /** Host directories the guest mounts, host paths resolved against the file's directory. */
  mounts?: MountSpec[] | undefined;
  /** `vnc`: the guest has a screen. */
  display?: 'vnc' | undefined;
}

/** The name `qlaunch image build RECIPE` stores its image under, which `image: { build: RECIPE }` boots. */
export const builtImageName = (recipe: string): string => `${recipe}-local`;

const MACHINE_EXTENSION = /\.(ya?ml|json)$/i;

/** A file path written in the machine file, and where. */
interface LocalFile {
  field: readonly PropertyKey[];
  path: string;
}

interface ReadMachine {
  definition: MachineDefinition;
  /** Local files it names, for the caller that can check they exist. */
  files: LocalFile[];
  where: (field: readonly PropertyKey[]) => { line: number; column: number } | undefined;
}

function readMachine(text: string, source: string, baseDir: string): ReadMachine {
  const { doc, lines, data } = parseMachineYaml(text, source);
  const where = (field: readonly PropertyKey[]) => locate(doc, lines, field);
  if (data === null || data === undefined) {
    throw machineFileError(source, [
      {
        field: '',
        message: 'is empty',
        hint: 'a machine needs at least an image (or a kernel); see machines/*.yaml',
      },
    ]);
  }
  const checked = machineFileSchema.safeParse(data);
  if (!checked.success) {
    const scope = { data, schema: machineFileSchema, base: [], outerHint: undefined };
    const problems = problemsFromIssues(checked.error.issues, scope).map(({ path, ...p }) => ({
      ...p,
      line: path.length > 0 ? where(path)?.line : undefined,
    }));
    throw machineFileError(source, problems);
  }
  return toDefinition(checked.data, source, baseDir, where);
}

function toDefinition(
  file: MachineFile,
  source: string,
  baseDir: string,
  where: ReadMachine['where'],
): ReadMachine {
  const files: LocalFile[] = [];
  const local = (field: PropertyKey[], path: string): string => {
    const full = isAbsolute(path) ? path : join(baseDir, path);
    files.push({ field, path: full });
    return full;
  };
  const firmwareOf = (field: PropertyKey[], value: string | undefined): Firmware | undefined =>
    value === undefined || value === 'bios' || value === 'uefi' ? value : { path: local(field, value) };
  const imageOf = (field: PropertyKey[], image: MachineImageSource): MachineImage => {
    const firmware = firmwareOf([...field, 'firmware'], image.firmware);
    const extra = firmware === undefined ? {} : { firmware };
    if ('name' in image) return { kind: 'stored', name: image.name, ...extra };
    if ('url' in image) {
      return {
        kind: 'url',
        url: image.url,
        checksum: image.checksum,
        checksumUrl: image.checksumUrl,
        ...extra,
      };
    }
    if ('build' in image)
      return { kind: 'build', recipe: image.build, name: builtImageName(image.build), ...extra };
    return { kind: 'file', path: local([...field, 'path'], image.path), ...extra };
  };
  const images: Partial<Record<Arch, MachineImage>> = {};
  for (const [arch, image] of Object.entries(file.images ?? {}) as [Arch, MachineImageSource | undefined][]) {
    if (image) images[arch] = imageOf(['images', arch], image);
  }
  const name = file.name ?? basename(source).replace(MACHINE_EXTENSION, '');
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name)) {
    throw machineFileError(source, [
      {
        field: 'name',
        message: `is missing, and the file name '${name}' is not a machine name`,
        hint: 'add name: NAME (lower-case letters, digits, . _ -)',
      },
    ]);
  }
  const definition: MachineDefinition = {
    name,
    description: file.description,
    source,
    arch: file.arch,
    cpus: file.cpus,
    memoryMiB: file.memory === undefined ? undefined : parseSizeMiB(file.memory, 'memory'),
    diskSizeMiB: file.disk === undefined ? undefined : parseSizeMiB(file.disk.size, 'disk.size'),
    image: file.image === undefined ? undefined : imageOf(['image'], file.image),
    images,
    kernel: file.kernel === undefined ? undefined : local(['kernel'], file.kernel),
    initrd: file.initrd === undefined ? undefined : local(['initrd'], file.initrd),
    append: file.append,
    firmware: firmwareOf(['firmware'], file.firmware),
    machineType: file.machineType,
    ports: (file.ports ?? []).map((text) => parsePortForward(text)),
    userData:
      file.userData === undefined
        ? undefined
        : typeof file.userData === 'string'
          ? { kind: 'file', path: local(['userData'], file.userData) }
          : { kind: 'inline', cloudConfig: file.userData },
    sshUser: file.ssh?.user,
    readiness: file.readiness,
    sandbox: file.sandbox,
    runAsRoot: file.runAsRoot,
    ...(file.mounts === undefined ? {} : { mounts: normalizeMounts(file.mounts, baseDir) }),
    ...(file.display === 'vnc' && { display: 'vnc' as const }),
  };
  return { definition, files, where };
}

/**
 * Check machine-file text (YAML, or JSON which is YAML too) without touching the disk. `source` names it in
 * errors and gives the default name; relative paths in it are joined to `baseDir` (default: `source`'s directory).
 */
export function parseMachineText(
  text: string,
  source: string,
  baseDir: string = dirname(source),
): MachineDefinition {
  return readMachine(text, source, baseDir).definition;
}

/** A machine file is a page of YAML; a larger one is refused before it is read whole or parsed. */
const MACHINE_FILE_MAX_BYTES = 1024 * 1024;

const tooLarge = (path: string, bytes: number | undefined): QlaunchError =>
  new QlaunchError(
    ErrorCode.MACHINE_INVALID,
    `machine file ${path} is ${bytes === undefined ? 'larger than' : `${(bytes / 1024 / 1024).toFixed(1)} MiB, over`} the limit of 1 MiB`,
    {
      hint: 'a machine file names what to boot in a few lines: put large content (user-data, scripts) in files it names, e.g. userData: FILE',
    },
  );

/** At most MACHINE_FILE_MAX_BYTES of `path` (a file, or a device or pipe read until that bound) as text. */
async function readMachineText(path: string): Promise<string> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, 'r');
    const info = await file.stat();
    if (info.isDirectory()) throw Object.assign(new Error('it is a directory'), { code: 'EISDIR' });
    if (info.isFile() && info.size > MACHINE_FILE_MAX_BYTES) throw tooLarge(path, info.size);
    // One byte past the bound tells a file that grew, or a device that never ends, from one that fits.
    const buffer = Buffer.alloc(
      info.isFile() ? Math.min(info.size, MACHINE_FILE_MAX_BYTES) + 1 : MACHINE_FILE_MAX_BYTES + 1,
    );
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > MACHINE_FILE_MAX_BYTES) throw tooLarge(path, undefined);
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    await file?.close().catch(() => undefined);
  }
}

/** Read and check a machine file; the files it names (kernel, initrd, userData, …) must exist. */
export async function loadMachineFile(path: string): Promise<MachineDefinition> {
  const text = await readMachineText(path).catch((error: NodeJS.ErrnoException) => {
    if (error instanceof QlaunchError) throw error;
    throw new QlaunchError(
      error.code === 'ENOENT' ? ErrorCode.SPEC_FILE_MISSING : ErrorCode.MACHINE_INVALID,
      error.code === 'ENOENT'
        ? `machine file ${path} does not exist`
        : `cannot read machine file ${path}: ${error.message}`,
      {
        hint: 'give the path of a .yaml or .json machine file, or a template name (`qlaunch run NAME`)',
        cause: error,
      },
    );
  });
  const { definition, files, where } = readMachine(text, path, dirname(resolve(path)));
  const missing: MachineProblem[] = [];
  for (const file of files) {
    const found = await stat(file.path).then(
      (s) => s.isFile() || s.isCharacterDevice() || s.isBlockDevice(),
      () => false,
    );
    if (!found) {
      missing.push({
        field: fieldText(file.field),
        line: where(file.field)?.line,
        message: `${file.path} is not a file`,
        hint: `paths are relative to the machine file's directory (${dirname(resolve(path))})`,
      });
    }
  }
  if (missing.length > 0) {
    const error = machineFileError(path, missing);
    throw new QlaunchError(ErrorCode.SPEC_FILE_MISSING, error.message, { hint: error.hint });
  }
  return definition;
}
