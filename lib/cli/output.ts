// How the CLI talks to people: errors with their fix, JSON when asked, and a logger on stderr when verbose.

import { isQlaunchError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { exposedForwards, exposedWarning, type PortForward } from '../machine/spec.js';
import { printableLines } from './printable.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** Print an error the way every command does: what went wrong, then how to fix it. Returns the exit code. */
export function reportError(error: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  if (isQlaunchError(error)) {
    stderr.write(`qlaunch: ${printableLines(error.message)}\n`);
    if (error.hint) stderr.write(`  fix: ${printableLines(error.hint).replaceAll('\n', '\n  ')}\n`);
    return error.code === 'USAGE' ? EXIT.usage : EXIT.failure;
  }
  stderr.write(
    `qlaunch: unexpected error: ${printableLines(error instanceof Error ? (error.stack ?? error.message) : String(error))}\n`,
  );
  return EXIT.failure;
}

export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** A pino logger to stderr at the level asked for; silent (and pino not even loaded) by default. */
export async function cliLogger(level: string | undefined): Promise<Logger> {
  if (!level || level === 'silent') return silentLogger;
  const { pino } = await import('pino');
  return pino({ level, base: null }, pino.destination(2)) as unknown as Logger;
}

/** A warning on stderr for each forward that other machines can reach (one given with a non-loopback address). */
export function warnExposed(
  forwards: readonly PortForward[],
  stderr: NodeJS.WritableStream = process.stderr,
): void {
  for (const f of exposedForwards(forwards)) stderr.write(`qlaunch: warning: ${exposedWarning(f)}\n`);
}
