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

/** A pino logger appending to `path` (0600), synchronously so a killed command leaves whole lines. */
export async function journalLogger(path: string, name: string): Promise<Logger> {
  const { pino } = await import('pino');
  const destination = pino.destination({ dest: path, append: true, sync: true, mode: 0o600, mkdir: false });
  return pino(
    { level: 'info', base: { instance: name, pid: process.pid } },
    destination,
  ) as unknown as Logger;
}
