// What every instance command shares: opening the instance with the CLI's logger, and turning errors into exit codes.

import type { Instance, InstanceOptions } from '../../instance/instance.js';
import { cliLogger, reportError } from '../output.js';

export interface InstanceArgs {
  name: string;
  json?: boolean | undefined;
  'log-level'?: string | undefined;
}

export async function instanceOptions(args: { 'log-level'?: string | undefined }): Promise<InstanceOptions> {
  return { logger: await cliLogger(args['log-level']) };
}

/** Open instance `args.name` and run `work` on it; any error is reported and becomes the exit code. */
export async function withInstance(
  args: InstanceArgs,
  work: (instance: Instance) => Promise<number>,
): Promise<number> {
  try {
    const { Instance } = await import('../../instance/instance.js');
    return await work(await Instance.open(args.name, await instanceOptions(args)));
  } catch (error) {
    return reportError(error);
  }
}

/** Seconds from the command line to milliseconds, or undefined. */
export const seconds = (value: number | undefined): number | undefined =>
  value === undefined ? undefined : value * 1000;

export const say = (line: string): void => {
  process.stderr.write(`qlaunch: ${line}\n`);
};
