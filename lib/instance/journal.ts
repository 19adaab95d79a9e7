// The instance's own log (qlaunch.log, pino JSON lines): what qlaunch did to it, appended by every command.

import type { Logger } from '../logger.js';

const levels = ['trace', 'debug', 'info', 'warn', 'error'] as const;

/** A logger that writes to both (the caller's, and the instance's file). */
export function teeLogger(a: Logger, b: Logger): Logger {
  const tee = Object.fromEntries(
    levels.map((level) => [
      level,
      (obj: unknown, msg?: string, ...args: unknown[]) => {
        a[level](obj, msg, ...args);
        b[level](obj, msg, ...args);
      },
    ]),
  ) as Pick<Logger, (typeof levels)[number]>;
  return { ...tee, child: (bindings) => teeLogger(a.child(bindings), b.child(bindings)) };
}

export interface Journal {
  logger: Logger;
  /** Closes the file: one command's journal, not one per call left open (a harness makes thousands). */
  close(): Promise<void>;
}

/** A pino logger appending to `path` (0600), synchronously so a killed command leaves whole lines. */
export async function openJournal(path: string, name: string): Promise<Journal> {
  const { pino } = await import('pino');
  const destination = pino.destination({ dest: path, append: true, sync: true, mode: 0o600, mkdir: false });
  let closed = false;
  // A line logged after close (a late event of a guest the command started) is dropped, never thrown.
  const stream = { write: (line: string) => closed || destination.write(line) };
  const logger = pino({ level: 'info', base: { instance: name, pid: process.pid } }, stream);
  return {
    logger: logger as unknown as Logger,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        destination.once('close', () => resolve());
        destination.once('error', () => resolve());
        destination.end();
      }),
  };
}
