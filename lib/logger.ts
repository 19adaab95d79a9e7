// The logging contract: a pino-compatible subset, silent unless the caller hands in a pino logger.

type LogFn = (objOrMsg: unknown, msg?: string, ...args: unknown[]) => void;

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => {};

/** A logger that drops everything, so the library stays quiet (and pino stays unloaded) unless asked. */
export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
