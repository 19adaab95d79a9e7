// `qlaunch image import` and `qlaunch image build`: images made on this host (a local file, a Debian build) stored.

import type { CommandModule } from 'yargs';
import {
  DEBIAN_IMAGE_ARCHES,
  DEBIAN_RELEASES,
  type DebianImageArch,
  type DebianRelease,
  imageName,
  releaseArches,
  releaseOfImage,
} from '../../image/debian-recipe.js';
import type { StoredImage } from '../../image/store.js';
import { interruptible } from '../interruptible.js';
import { cliLogger, printJson } from '../output.js';
import { progressReporter } from '../progress.js';
import { imageSummary, shortChecksum } from './image-format.js';

type SetExit = (code: number) => void;

interface ImportArgs {
  file: string;
  name?: string | undefined;
  arch?: string | undefined;
  format?: string | undefined;
  json?: boolean | undefined;
}

export const importCommand = (setExit: SetExit): CommandModule<object, ImportArgs> => ({
  command: 'import <file>',
  describe:
    'copy a local disk image (raw, or qcow2 with no backing or data file) into the store after checking it',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'disk image file' })
      .option('name', { type: 'string', describe: 'store it under this name (default: from the file name)' })
      .option('arch', { type: 'string', describe: 'guest architecture the image is for (recorded)' })
      .option('format', {
        type: 'string',
        choices: ['raw', 'qcow2'],
        describe:
          'the format the file must have (default: qcow2 for a .qcow2 name, else what its header says)',
      })
      .option('json', { type: 'boolean', describe: 'print the stored image as JSON' })
      .example(
        '$0 image import ./disk.qcow2 --name mine --arch aarch64',
        'store a disk file as the image "mine"',
      ),
  handler: async (args) =>
    setExit(
      await interruptible(async (signal) => {
        const { parseArch } = await import('../../arch/table.js');
        const { openImageStore } = await import('../../image/store.js');
        const { importImage } = await import('../../image/import.js');
        const arch = args.arch === undefined ? undefined : parseArch(args.arch);
        const progress = progressReporter(`importing ${args.file}`);
        let image: StoredImage;
        try {
          image = await importImage(openImageStore(), {
            file: args.file,
            name: args.name,
            arch,
            format: args.format as 'raw' | 'qcow2' | undefined,
            signal,
            onProgress: (p) => progress.update(p.copied, p.total),
          });
        } finally {
          progress.finish();
        }
        if (args.json) printJson(image);
        else
          process.stdout.write(
            `imported ${image.name}: ${imageSummary(image)}; ${shortChecksum(image.checksum)}\n`,
          );
      }),
    ),
});

interface BuildArgs {
  recipe: string;
  arch?: string | undefined;
  name?: string | undefined;
  json?: boolean | undefined;
  'log-level'?: string | undefined;
}

const RECIPES = (Object.keys(DEBIAN_RELEASES) as DebianRelease[]).map((release) => imageName(release));

export const buildCommand = (setExit: SetExit): CommandModule<object, BuildArgs> => ({
  command: 'build <recipe>',
  describe: `build an image from distribution packages (${RECIPES.join(', ')}) into the store; needs mmdebstrap`,
  builder: (y) =>
    y
      .positional('recipe', { type: 'string', demandOption: true, choices: RECIPES })
      .option('arch', {
        type: 'string',
        choices: [...DEBIAN_IMAGE_ARCHES],
        describe: 'default: the host’s (riscv64 from debian-13 on)',
      })
      .option('name', { type: 'string', describe: 'default: debian-N-local, or debian-N-local-<arch>' })
      .option('json', { type: 'boolean', describe: 'print the stored image as JSON' }),
  handler: async (args) =>
    setExit(
      await interruptible(async (signal) => {
        const { hostArch } = await import('../../arch/table.js');
        const release = releaseOfImage(args.recipe)!;
        const buildable = (arch: string | undefined): arch is DebianImageArch =>
          (releaseArches(release) as readonly (string | undefined)[]).includes(arch);
        // The host's architecture builds natively; another one needs binfmt emulation (the builder checks).
        const host = hostArch();
        const arch = args.arch ?? (buildable(host) ? host : 'x86_64');
        const { openImageStore } = await import('../../image/store.js');
        const { buildStoredDebianImage } = await import('../../image/store-build.js');
        const image = await buildStoredDebianImage(openImageStore(), {
          release,
          arch: arch as DebianImageArch,
          name: args.name,
          signal,
          logger: await cliLogger(args['log-level']),
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        if (args.json) printJson(image);
        else process.stdout.write(`built ${image.name}: ${imageSummary(image)}, boots its own kernel\n`);
      }),
    ),
});
