// `qlaunch image pull`: a URL, or a machine template's image for the arch, downloaded into the store and verified.

import type { CommandModule } from 'yargs';
import type { Arch } from '../../arch/table.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { MachineDefinition } from '../../machine/file.js';
import { interruptible } from '../interruptible.js';
import { secondsOption } from '../option-values.js';
import { printJson } from '../output.js';
import { progressReporter } from '../progress.js';
import { imageSummary, shortChecksum } from './image-format.js';

export interface PullArgs {
  source: string;
  name?: string | undefined;
  checksum?: string | undefined;
  'checksum-url'?: string | undefined;
  verify: boolean;
  arch?: string | undefined;
  json?: boolean | undefined;
  'stall-timeout'?: number | undefined;
}

/** What pullImage is asked for. */
export interface PullRequest {
  url: string;
  name: string;
  checksum?: string | undefined;
  checksumUrl?: string | undefined;
  arch?: Arch | undefined;
}

/** Finds a machine template by name; the shipped templates unless a caller (a test) brings its own. */
export type TemplateLookup = (name: string, arch: Arch | undefined) => Promise<MachineDefinition>;

const shippedTemplate: TemplateLookup = async (name, arch) =>
  (await import('../../machine/templates.js')).findTemplate(name, { arch });

/** Why a template's image for an arch cannot be pulled, and what to do instead. */
function notDownloadable(image: MachineDefinition['image']): string {
  switch (image?.kind) {
    case 'build':
      return `it is built locally: qlaunch image build ${image.recipe}`;
    case 'stored':
      return `it uses the stored image '${image.name}'`;
    case 'file':
      return `it uses the file ${image.path}: qlaunch image import ${image.path}`;
    default:
      return 'it boots a kernel, not a disk image';
  }
}

/**
 * What to pull for `args.source`: an argument with `://` is a URL (named from its file unless --name); anything
 * else is a machine template, whose image for the arch is stored as the template's name (`-<arch>` off x86_64).
 */
export async function pullRequest(
  args: Omit<PullArgs, 'verify'>,
  findTemplate: TemplateLookup = shippedTemplate,
): Promise<PullRequest> {
  const { parseArch } = await import('../../arch/table.js');
  const arch = args.arch === undefined ? undefined : parseArch(args.arch);
  const { imageNameForArch, imageNameFromUrl } = await import('../../image/image-name.js');
  if (args.source.includes('://')) {
    const { checkDownloadUrl } = await import('../../image/download-url.js');
    // Before a name is made from it: a malformed URL is refused by what is wrong with it.
    checkDownloadUrl(args.source);
    return {
      url: args.source,
      name: args.name ?? imageNameFromUrl(args.source),
      checksum: args.checksum,
      checksumUrl: args['checksum-url'],
      arch,
    };
  }
  const { chooseArch } = await import('../../machine/resolve.js');
  const template = await findTemplate(args.source, arch);
  const chosen = chooseArch(template, arch);
  const image = template.images[chosen] ?? template.image;
  if (image?.kind !== 'url') {
    throw new QlaunchError(
      ErrorCode.IMAGE_NOT_FOUND,
      `template '${args.source}' has no image to download for ${chosen}`,
      { hint: notDownloadable(image) },
    );
  }
  if (args.checksum !== undefined || args['checksum-url'] !== undefined) {
    throw new QlaunchError(ErrorCode.USAGE, `template '${args.source}' brings its own checksum`, {
      hint: 'drop --checksum / --checksum-url, or pull the URL itself',
    });
  }
  return {
    url: image.url,
    name: args.name ?? imageNameForArch(args.source, chosen),
    checksum: image.checksum,
    checksumUrl: image.checksumUrl,
    arch: chosen,
  };
}

export const pullCommand = (setExit: (code: number) => void): CommandModule<object, PullArgs> => ({
  command: 'pull <source>',
  describe: 'download an image (a URL, or a machine template name) into the store, checksum verified',
  builder: (y) =>
    y
      .positional('source', { type: 'string', demandOption: true, describe: 'http(s) URL, or template name' })
      .option('name', {
        type: 'string',
        describe: 'store it under this name (default: from the URL or template)',
      })
      .option('checksum', { type: 'string', describe: 'expected digest: sha256:HEX or sha512:HEX' })
      .option('checksum-url', {
        type: 'string',
        describe: "the vendor's SHA256SUMS / SHA512SUMS listing the file",
      })
      .option('verify', {
        type: 'boolean',
        default: true,
        describe: 'require a checksum (--no-verify keeps an unverified image)',
      })
      .option('arch', { type: 'string', describe: 'guest architecture the image is for (recorded)' })
      .option('json', { type: 'boolean', describe: 'print the stored image as JSON' })
      .option('stall-timeout', {
        type: 'number',
        describe: 'fail when no data arrives for this many seconds (default 60)',
        coerce: secondsOption('stall-timeout', '120'),
      })
      .example(
        '$0 image pull debian-12',
        'the image the debian-12 template names, checked against its checksum',
      )
      .example('$0 image pull https://example.org/disk.qcow2 --checksum sha256:HEX --name mine', 'any URL'),
  handler: async (args) =>
    setExit(
      await interruptible(async (signal) => {
        const request = await pullRequest(args);
        const { openImageStore } = await import('../../image/store.js');
        const { pullImage } = await import('../../image/pull.js');
        const progress = progressReporter(`pulling ${request.name}`);
        let pulled: Awaited<ReturnType<typeof pullImage>>;
        try {
          pulled = await pullImage({
            ...request,
            store: openImageStore(),
            unverified: !args.verify,
            signal,
            stallTimeout: args['stall-timeout'] === undefined ? undefined : args['stall-timeout'] * 1000,
            onProgress: (p) => progress.update(p.received, p.total, p.stalledMs),
          });
        } finally {
          progress.finish();
        }
        const { image, downloaded, verified } = pulled;
        if (args.json) {
          printJson({ ...image, downloaded, verified: verified !== undefined });
          return;
        }
        const check = verified
          ? `${shortChecksum(image.checksum)} verified`
          : 'NOT verified (no checksum given)';
        process.stdout.write(
          downloaded
            ? `pulled ${image.name}: ${imageSummary(image)}; ${check}\n`
            : `${image.name} is already stored (${shortChecksum(image.checksum)}): nothing downloaded\n`,
        );
      }),
    ),
});
