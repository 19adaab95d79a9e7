// The machine templates shipped in machines/*.yaml: listing them and finding one by name (`qlaunch run debian-12`).

import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { loadMachineFile, type MachineDefinition } from './file.js';
import { chooseArch, machineArches } from './resolve.js';
import { closestNames } from './suggest.js';

export interface TemplateSummary {
  name: string;
  description?: string | undefined;
  /** The architectures it has images for. */
  arches: Arch[];
  /** Absolute path of its file. */
  path: string;
}

export interface TemplateOptions {
  /** Where the templates are; default the package's machines/ directory. */
  dir?: string | undefined;
}

const isPackageRoot = (dir: string): boolean => {
  try {
    return (
      (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'qlaunch'
    );
  } catch {
    return false;
  }
};

/** The package's machines/ directory, found by walking up from this module (lib/machine/ or dist/lib/machine/). */
export function templatesDir(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (isPackageRoot(dir) && existsSync(join(dir, 'machines'))) return join(dir, 'machines');
    if (dirname(dir) === dir) {
      throw new QlaunchError(ErrorCode.MACHINE_UNKNOWN, `no machines/ directory above ${dirname(from)}`, {
        hint: 'reinstall qlaunch: its package ships the templates in machines/',
      });
    }
  }
}

async function templateFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: Error) => {
    throw new QlaunchError(ErrorCode.MACHINE_UNKNOWN, `cannot read the templates in ${dir}`, {
      cause: error,
    });
  });
  return names
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => name.slice(0, -'.yaml'.length))
    .sort();
}

/** A template file, checked to carry its own file name as its name. */
async function loadTemplate(dir: string, name: string): Promise<MachineDefinition> {
  const path = join(dir, `${name}.yaml`);
  const def = await loadMachineFile(path);
  if (def.name !== name) {
    throw new QlaunchError(
      ErrorCode.MACHINE_INVALID,
      `${path}: name '${def.name}' is not the file's name '${name}'`,
      {
        hint: `a template is found by its file name: write name: ${name}`,
      },
    );
  }
  return def;
}

/** Every shipped template, by name. */
export async function listTemplates(options: TemplateOptions = {}): Promise<TemplateSummary[]> {
  const dir = options.dir ?? templatesDir();
  const names = await templateFiles(dir);
  return Promise.all(
    names.map(async (name) => {
      const def = await loadTemplate(dir, name);
      return {
        name,
        description: def.description,
        arches: machineArches(def),
        path: join(dir, `${name}.yaml`),
      };
    }),
  );
}

/** The template called `name`; with `arch`, also checked to have an image for it. */
export async function findTemplate(
  name: string,
  options: TemplateOptions & { arch?: string | undefined } = {},
): Promise<MachineDefinition> {
  const dir = options.dir ?? templatesDir();
  const names = await templateFiles(dir);
  if (!names.includes(name)) {
    const close = closestNames(name, names).map((n) => `'${n}'`);
    throw new QlaunchError(ErrorCode.MACHINE_UNKNOWN, `there is no machine template '${name}'`, {
      hint: `${close.length > 0 ? `did you mean ${close.join(' or ')}? ` : ''}the templates are: ${names.join(', ')}; a machine file is given with --machine FILE`,
    });
  }
  const def = await loadTemplate(dir, name);
  if (options.arch !== undefined) chooseArch(def, options.arch);
  return def;
}
