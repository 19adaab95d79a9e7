// `qlaunch seed`: write a NoCloud seed image, a drop-in for cloud-localds (same arguments and long options).

import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { printJson, reportError } from '../output.js';

interface SeedArgs {
  output: string;
  'user-data': string;
  'meta-data'?: string | undefined;
  'network-config'?: string | undefined;
  'vendor-data'?: string | undefined;
  filesystem: string;
  'disk-format': string;
  hostname?: string | undefined;
  'ssh-key'?: string[] | undefined;
  'instance-id'?: string | undefined;
  force?: boolean | undefined;
  json?: boolean | undefined;
}

/** The image to standard output, as cloud-localds does for OUTPUT "-"; never to a terminal. */
async function writeStdout(image: Uint8Array): Promise<void> {
  if (process.stdout.isTTY) {
    throw new QlaunchError(
      ErrorCode.SEED_OUTPUT_REFUSED,
      'standard output is a terminal, not a seed image file',
      {
        hint: 'redirect it to a file (qlaunch seed - user-data > seed.iso), or give a file path as OUTPUT',
      },
    );
  }
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) =>
      reject(
        new QlaunchError(
          ErrorCode.SEED_WRITE,
          `Cannot write the seed image to standard output: ${error.message}`,
          {
            hint: 'check what reads the output: it closed before the whole image was written',
            cause: error,
          },
        ),
      );
    // A reader that goes away (EPIPE) is reported as an 'error' event too: without a listener it would crash.
    process.stdout.on('error', fail);
    process.stdout.write(image, (error) => {
      if (error) return fail(error);
      process.stdout.off('error', fail);
      resolve();
    });
  });
}

export const seedCommand = (setExit: (code: number) => void): CommandModule<object, SeedArgs> => ({
  command: 'seed <output> <user-data> [meta-data]',
  describe: 'write a cloud-init NoCloud seed image (like cloud-localds), no external tools needed',
  builder: (y) =>
    y
      .positional('output', {
        type: 'string',
        demandOption: true,
        describe: 'image file to write (new, or a seed image to replace), or - for stdout',
      })
      .positional('user-data', {
        type: 'string',
        demandOption: true,
        describe: 'user-data file, or - for stdin',
      })
      .positional('meta-data', { type: 'string', describe: 'meta-data file (default: generated)' })
      .option('network-config', { alias: 'N', type: 'string', describe: 'network-config file (v1 or v2)' })
      .option('vendor-data', { alias: 'V', type: 'string', describe: 'vendor-data file' })
      .option('filesystem', { alias: 'f', type: 'string', choices: ['iso9660', 'vfat'], default: 'iso9660' })
      .option('disk-format', {
        alias: 'd',
        type: 'string',
        choices: ['raw'],
        default: 'raw',
        describe: 'image format',
      })
      .option('hostname', { alias: 'H', type: 'string', describe: 'local-hostname in meta-data' })
      .option('ssh-key', {
        type: 'string',
        array: true,
        describe: 'public key file for meta-data public-keys',
      })
      .option('instance-id', { alias: 'i', type: 'string', describe: 'instance-id (default: a new one)' })
      .option('force', {
        type: 'boolean',
        describe: 'replace OUTPUT even if it is not a seed image (never a disk an instance uses)',
      })
      .option('json', { type: 'boolean', describe: 'print what was written as JSON' }),
  handler: async (args) => {
    try {
      const { loadSeedInputs } = await import('../../cidata/seed-inputs.js');
      const { buildSparseSeedImage } = await import('../../cidata/seed.js');
      const { denseImage } = await import('../../cidata/sparse-image.js');
      const { checkSeedOutput, writeSeedOutput } = await import('../../instance/seed-output.js');
      const toStdout = args.output === '-';
      if (toStdout && args.json) {
        throw new QlaunchError(ErrorCode.USAGE, '--json and OUTPUT - would both write to standard output', {
          hint: 'drop --json, or give a file path as OUTPUT',
        });
      }
      // Refused before any input is read: a wrong OUTPUT should not cost reading stdin.
      if (!toStdout) await checkSeedOutput(args.output, { force: args.force });
      const loaded = await loadSeedInputs({
        userData: args['user-data'],
        metaData: args['meta-data'],
        networkConfig: args['network-config'],
        vendorData: args['vendor-data'],
        hostname: args.hostname,
        instanceId: args['instance-id'],
        sshKeys: args['ssh-key'],
      });
      const filesystem = args.filesystem as 'iso9660' | 'vfat';
      const image = buildSparseSeedImage({ files: loaded.files, filesystem });
      if (toStdout) await writeStdout(denseImage(image));
      else await writeSeedOutput(args.output, image, { force: args.force });
      const files = Object.entries(loaded.files).map(([name, data]) => ({
        name,
        bytes: Buffer.byteLength(data),
      }));
      if (args.json) {
        printJson({
          output: args.output,
          filesystem,
          bytes: image.size,
          instanceId: loaded.instanceId,
          userData: loaded.userDataKind,
          files,
        });
      } else {
        const kib = Math.ceil(image.size / 1024);
        // With the image on stdout, the summary goes to stderr (as cloud-localds' own).
        (toStdout ? process.stderr : process.stdout).write(
          `wrote ${toStdout ? 'standard output' : args.output} (${filesystem}, ${kib} KiB, instance-id ${loaded.instanceId}): ${files.map((f) => f.name).join(', ')}\n`,
        );
      }
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});
