// `qlaunch export (NAME | IMAGE | --machine FILE) --to kubevirt|nomad`: the same machine as a KubeVirt manifest or a
// Nomad job; what the target cannot express is listed on stderr, never dropped silently.

import type { CommandModule } from 'yargs';
import { writeFileAtomic } from '../../cidata/seed.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { EXPORT_TARGETS, type ExportTarget } from '../../export/input.js';
import { printJson, reportError } from '../output.js';
import { printableLines } from '../printable.js';

interface ExportArgs {
  name?: string | undefined;
  machine?: string | undefined;
  to: string;
  arch?: string | undefined;
  'image-url'?: string | undefined;
  'seed-url'?: string | undefined;
  'seed-out'?: string | undefined;
  'ssh-key'?: string | undefined;
  out?: string | undefined;
  json?: boolean | undefined;
}

const usage = (message: string, hint: string) => new QlaunchError(ErrorCode.USAGE, message, { hint });

function checkArgs(args: ExportArgs): void {
  if ((args.name === undefined) === (args.machine === undefined)) {
    throw usage(
      args.name === undefined ? 'say what to export' : 'give NAME or --machine FILE, not both',
      'qlaunch export NAME --to kubevirt (an instance, template or stored image), or --machine FILE',
    );
  }
  for (const option of ['image-url', 'seed-url'] as const) {
    const value = args[option];
    const schemes = option === 'image-url' ? /^(https?|docker):\/\/./ : /^https?:\/\/./;
    if (value !== undefined && !schemes.test(value)) {
      throw usage(
        `--${option} '${value}' is not ${option === 'image-url' ? 'an http(s):// or docker:// URL' : 'an http(s):// URL'}`,
        option === 'image-url'
          ? 'give the disk image’s https://… URL, or docker://REGISTRY/IMAGE for a KubeVirt containerDisk'
          : 'give the https://… URL the seed image will be served at',
      );
    }
  }
  if (args.to !== 'nomad' && (args['seed-url'] !== undefined || args['seed-out'] !== undefined)) {
    throw usage(
      '--seed-url and --seed-out are for --to nomad',
      'KubeVirt carries cloud-init in the manifest itself',
    );
  }
  if (args.to === 'nomad' && args['seed-url'] === undefined) {
    throw usage(
      'a Nomad job needs --seed-url: where its clients download the seed image',
      'write the seed with --seed-out seed.iso, serve it, and give its URL: --seed-url https://…/seed.iso',
    );
  }
}

export const exportCommand = (setExit: (code: number) => void): CommandModule<object, ExportArgs> => ({
  command: 'export [name]',
  describe:
    'write the machine an instance, template, image or machine file describes as a KubeVirt manifest or Nomad job',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'instance, template, stored image or disk file' })
      .option('machine', { type: 'string', describe: 'a machine file (YAML) instead of NAME' })
      .option('to', { type: 'string', choices: EXPORT_TARGETS, demandOption: true, describe: 'the target' })
      .option('arch', {
        type: 'string',
        describe: 'the architecture (default: the machine’s, else the host’s)',
      })
      .option('image-url', {
        type: 'string',
        describe: 'where the target fetches the disk: https://… or docker://REF (default: the machine’s URL)',
      })
      .option('seed-url', { type: 'string', describe: 'nomad: where clients fetch the seed image' })
      .option('seed-out', {
        type: 'string',
        describe: 'nomad: write the seed image here (to serve at --seed-url)',
      })
      .option('ssh-key', {
        type: 'string',
        describe: 'a public key file the guest lets in (default: an instance’s own)',
      })
      .option('out', { type: 'string', describe: 'write the manifest to this file instead of stdout' })
      .option('json', { type: 'boolean', describe: 'print the manifest and what did not carry over as JSON' })
      .example(
        '$0 export debian-12 --to kubevirt --out debian-12.yaml',
        'a VirtualMachine for kubectl apply -f',
      )
      .example(
        '$0 export dev --to nomad --seed-out seed.iso --seed-url https://files.example/seed.iso --out dev.json',
        'a job for nomad job run -json',
      ),
  handler: async (args) => {
    try {
      checkArgs(args);
      const { exportMachine } = await import('../../export/source.js');
      const result = await exportMachine({
        to: args.to as ExportTarget,
        name: args.name,
        machine: args.machine,
        arch: args.arch,
        imageUrl: args['image-url'],
        seedUrl: args['seed-url'],
        sshKey: args['ssh-key'],
      });
      const encode = (text: string) => new TextEncoder().encode(text);
      if (result.seedImage && args['seed-out'] !== undefined) {
        await writeFileAtomic(args['seed-out'], result.seedImage, { durable: false, what: 'seed image' });
      }
      if (args.out !== undefined) {
        await writeFileAtomic(args.out, encode(result.text), { durable: false, what: 'manifest' });
      }
      if (args.json) {
        printJson({ target: args.to, out: args.out, manifest: result.text, notCarriedOver: result.dropped });
      } else if (args.out === undefined) {
        process.stdout.write(result.text);
      }
      // On stderr with --json too: a script reading stdout still leaves the person running it informed.
      for (const { what, reason } of result.dropped) {
        process.stderr.write(
          `qlaunch: not carried over: ${printableLines(what)}: ${printableLines(reason)}\n`,
        );
      }
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});
