// `qlaunch image warm IMAGE --as NAME [-- PREP…]`: boot an image once, prepare it, save the running guest into the
// store; `qlaunch run NAME` and launch({ image: NAME }) then clone it instead of booting.

import type { CommandModule } from 'yargs';
import { interruptible } from '../interruptible.js';
import { secondsOption } from '../option-values.js';
import { cliLogger, printJson } from '../output.js';
import { type GuestArgs, guestInput, guestOptions } from './guest-options.js';
import { imageSummary } from './image-format.js';

type SetExit = (code: number) => void;

interface WarmArgs extends GuestArgs {
  image: string;
  as: string;
  timeout?: number | undefined;
  json?: boolean | undefined;
  'log-level'?: string | undefined;
  '--'?: (string | number)[] | undefined;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;

export const warmCommand = (setExit: SetExit): CommandModule<object, WarmArgs> => ({
  command: 'warm <image>',
  describe:
    'boot IMAGE, wait until it is ready, run the command after -- in it, and save the running guest as a warm image that `run NAME` clones in about a second',
  builder: (y) =>
    guestOptions(
      y
        .positional('image', {
          type: 'string',
          demandOption: true,
          describe: 'template, stored image or disk file to warm',
        })
        .option('as', { type: 'string', demandOption: true, describe: 'the warm image’s name in the store' })
        .option('timeout', {
          type: 'number',
          describe: 'seconds to wait for the guest to be ready (SSH, cloud-init, agent; default 300)',
          coerce: secondsOption('timeout', '300'),
        })
        .option('json', { type: 'boolean', describe: 'print the stored image and its record as JSON' }),
    ).parserConfiguration({ 'populate--': true }),
  handler: async (args) =>
    setExit(
      await interruptible(async (signal) => {
        const { warmStoredImage } = await import('../../guest/warm/store.js');
        const say = (line: string) => process.stderr.write(`qlaunch: ${line}\n`);
        const started = Date.now();
        const prep = (args['--'] ?? []).map(String);
        const { image, record } = await warmStoredImage(
          { ...guestInput(args), image: args.image, name: args.as, prep },
          {
            logger: await cliLogger(args['log-level']),
            onProgress: say,
            signal,
            readyTimeout: args.timeout === undefined ? undefined : args.timeout * 1000,
          },
        );
        if (args.json) {
          printJson({ ...image, warm: record });
          return;
        }
        process.stdout.write(
          `warmed ${image.name} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${imageSummary(image)}; ` +
            `device state ${mib(record.stateBytes)}, RAM ${mib(record.ramBytes)} (of ${record.memoryMiB} MiB); ` +
            `stands on ${image.base ?? record.layers[1]?.path}\n`,
        );
      }),
    ),
});
