// Running a long CLI task (a pull, a build) so that Ctrl-C or SIGTERM stop it cleanly instead of killing it mid-write.

import { reportError } from './output.js';

const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `task` with a signal that SIGINT and SIGTERM trip; the task aborts and cleans up. Returns the exit code:
 * 0, the error's (reported on stderr), or 130/143 when a signal stopped it.
 */
export async function interruptible(task: (signal: AbortSignal) => Promise<void>): Promise<number> {
  const controller = new AbortController();
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (caught) return;
    caught = signal;
    process.stderr.write(`\nqlaunch: ${signal}: stopping; nothing half-made is kept\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await task(controller.signal);
    // Past its last point of no return, the task finished anyway: say so rather than leave "stopping" standing.
    if (caught) process.stderr.write(`qlaunch: ${caught} came too late: it had already finished\n`);
    return 0;
  } catch (error) {
    const code = reportError(error);
    return caught ? (SIGNAL_EXIT[caught] ?? code) : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
