// The qlaunch CLI: yargs wiring only; every command is a thin module over the library.

// The CommonJS build: its help wraps at spaces (the ESM build's cliui cuts words wherever the column ends).
import yargs from 'yargs/yargs';
import { ErrorCode, QlaunchError } from '../errors.js';
import { doctorCommand } from './commands/doctor.js';
import { exportCommand } from './commands/export.js';
import { imageCommand } from './commands/image.js';
import {
  consoleCommand,
  execCommand,
  logsCommand,
  qmpCommand,
  screenshotCommand,
  sshCommand,
} from './commands/instance-access.js';
import {
  createCommand,
  restartCommand,
  rmCommand,
  startCommand,
  stopCommand,
} from './commands/instance-lifecycle.js';
import { inspectCommand, lsCommand } from './commands/instance-list.js';
import { portCommand } from './commands/instance-port.js';
import { snapshotCommand } from './commands/instance-snapshot.js';
import { networkCommand } from './commands/network.js';
import { runCommand } from './commands/run.js';
import { seedCommand } from './commands/seed.js';
import { uiCommand } from './commands/ui.js';
import { COMPLETION_KEY, completeWords, completionCommand } from './completion.js';
import { unglueTags } from './help-text.js';
import { coerceError } from './option-values.js';
import { EXIT, reportError } from './output.js';

// yargs reads a lone '-' as an empty value. No real argument can hold a NUL, so this stands in for '-' while yargs
// parses, and every command gets '-' back as typed: stdin where it reads an input file, a plain value elsewhere.
const DASH = '\u0000-';

const restoreDash = (value: unknown): unknown =>
  value === DASH ? '-' : Array.isArray(value) ? value.map(restoreDash) : value;

/** Help's width: the terminal's, else $COLUMNS, else 80; at most 110, as longer lines are hard to read. */
const helpWidth = (): number => Math.min(110, process.stdout.columns ?? (Number(process.env.COLUMNS) || 80));

export async function main(argv: string[]): Promise<number> {
  // The completion entry point: words from a shell's script; it prints names or nothing, never an error.
  const completing = argv[0] === COMPLETION_KEY;
  let exitCode: number = EXIT.ok;
  const setExit = (code: number) => {
    exitCode = code;
  };
  const args = argv.map((arg) => (arg === '-' ? DASH : arg));
  const parser = yargs(args)
    .scriptName('qlaunch')
    .usage(
      '$0 <command> [options]\n\nA small, fast QEMU launcher: boots guests directly, drives them over QMP.',
    )
    .option('log-level', {
      type: 'string',
      describe: 'log what qlaunch does to stderr (JSON)',
      choices: ['silent', 'error', 'warn', 'info', 'debug', 'trace'],
      default: 'silent',
    })
    .command(runCommand((code) => (exitCode = code)))
    .command(createCommand(setExit))
    .command(startCommand(setExit))
    .command(stopCommand(setExit))
    .command(restartCommand(setExit))
    .command(rmCommand(setExit))
    .command(lsCommand(setExit))
    .command(inspectCommand(setExit))
    .command(sshCommand(setExit))
    .command(execCommand(setExit))
    .command(consoleCommand(setExit))
    .command(screenshotCommand(setExit))
    .command(logsCommand(setExit))
    .command(qmpCommand(setExit))
    .command(portCommand(setExit))
    .command(snapshotCommand(setExit))
    .command(seedCommand((code) => (exitCode = code)))
    .command(imageCommand((code) => (exitCode = code)))
    .command(networkCommand(setExit))
    .command(exportCommand(setExit))
    .command(uiCommand(setExit))
    .command(doctorCommand((code) => (exitCode = code)))
    .command(completionCommand(setExit))
    .middleware((args) => {
      for (const key of Object.keys(args)) args[key] = restoreDash(args[key]);
    }, true)
    .demandCommand(1, 'say which command to run; `qlaunch --help` lists them')
    .strict()
    .recommendCommands()
    .version()
    .help()
    .wrap(helpWidth())
    .fail((message, error) => {
      throw error
        ? coerceError(error)
        : new QlaunchError(ErrorCode.USAGE, message.replaceAll(DASH, '-'), { hint: 'see `qlaunch --help`' });
    });
  if (completing) {
    // yargs runs this function for the key, prints what it gives and exits; its command is hidden, as
    // `completion SHELL` is the one to use.
    parser.completion('__complete', false, completeWords(argv.slice(1)));
    try {
      await parser.parseAsync(args);
    } catch {
      // A half-typed line is often invalid (yargs may even throw before it completes): the shell gets no error.
    }
    return EXIT.ok;
  }
  // yargs hands over what it would print (help, version) instead of printing it, so that help can be mended.
  let output = '';
  try {
    await parser.parseAsync(args, {}, (_error, _argv, text) => {
      output = text;
    });
  } catch (error) {
    return reportError(error);
  }
  if (output) process.stdout.write(`${unglueTags(output)}\n`);
  return exitCode;
}
