// Reaching into a running instance: `ssh`, `exec` (guest agent), `console`, `logs`, `qmp`, `screenshot`.

import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { LogSource } from '../../instance/logs.js';
import { countOption, secondsOption } from '../option-values.js';
import { printJson } from '../output.js';
import { type InstanceArgs, say, seconds, withInstance } from './instance-common.js';

interface CommandArgs extends InstanceArgs {
  '--'?: (string | number)[] | undefined;
}

const commandOf = (args: CommandArgs): string[] => (args['--'] ?? []).map(String);

export const sshCommand = (setExit: (code: number) => void): CommandModule<object, CommandArgs> => ({
  command: 'ssh <name>',
  describe: 'SSH into an instance, or run `-- COMMAND…` in it over SSH',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .positional('name', { type: 'string', demandOption: true })
      .example('$0 ssh web', 'an interactive shell in the instance')
      .example('$0 ssh web -- systemctl is-active nginx', 'one command; qlaunch exits with its exit code'),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const ssh = await instance.ssh();
        const command = commandOf(args);
        if (command.length === 0) return ssh.interactive();
        return (await ssh.exec(command, { stdout: process.stdout, stderr: process.stderr })).exitCode;
      }),
    ),
});

interface ExecArgs extends CommandArgs {
  stdin?: boolean | undefined;
  timeout?: number | undefined;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const execCommand = (setExit: (code: number) => void): CommandModule<object, ExecArgs> => ({
  command: 'exec <name>',
  describe:
    'run `-- COMMAND…` in an instance through its guest agent (no network needed); exit code passed through',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .positional('name', { type: 'string', demandOption: true })
      .option('stdin', { type: 'boolean', describe: 'send this command’s stdin to the guest command' })
      .option('timeout', {
        type: 'number',
        describe: 'seconds the command may run (default: no limit)',
        coerce: secondsOption('timeout', '60'),
      })
      .example(
        '$0 exec web -- cat /etc/os-release',
        'through the guest agent: works with no network in the guest',
      )
      .example(
        '$0 exec web --stdin -- tee /tmp/notes < notes.txt',
        'the guest command reads this command’s stdin',
      ),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const command = commandOf(args);
        if (command.length === 0) {
          throw new QlaunchError(ErrorCode.USAGE, 'no command to run', {
            hint: `put it after --: qlaunch exec ${args.name} -- uname -a`,
          });
        }
        const result = await instance.exec(command, {
          input: args.stdin ? await readStdin() : undefined,
          timeout: seconds(args.timeout),
        });
        process.stdout.write(result.stdout);
        process.stderr.write(result.stderr);
        if (result.truncated) say('the guest agent truncated the output (it keeps at most 16 MiB)');
        return result.exitCode; // 128 + N when signal N ended it, as a shell reports it
      }),
    ),
});

/** Ctrl-] detaches, as in telnet and virsh console. */
export const DETACH_BYTE = 0x1d;

export const consoleCommand = (setExit: (code: number) => void): CommandModule<object, InstanceArgs> => ({
  command: 'console <name>',
  describe: 'attach to an instance’s serial console; detach with Ctrl-]',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const socket = await instance.console();
        const stdin = process.stdin;
        say(`connected to ${instance.name}'s console; detach with Ctrl-]`);
        const raw = stdin.isTTY === true;
        if (raw) stdin.setRawMode(true);
        await new Promise<void>((resolve) => {
          const finish = () => {
            stdin.off('data', onInput);
            stdin.pause();
            socket.end();
            resolve();
          };
          const onInput = (chunk: Buffer) => {
            const at = chunk.indexOf(DETACH_BYTE);
            if (at >= 0) {
              if (at > 0) socket.write(chunk.subarray(0, at));
              finish();
            } else socket.write(chunk);
          };
          stdin.on('data', onInput);
          stdin.once('end', finish);
          socket.on('data', (chunk) => process.stdout.write(chunk));
          socket.once('close', finish);
          socket.on('error', () => {});
        });
        if (raw) stdin.setRawMode(false);
        process.stderr.write('\n');
        say(`detached from ${instance.name}'s console`);
        return 0;
      }),
    ),
});

interface LogsArgs extends InstanceArgs {
  follow?: boolean | undefined;
  source?: string | undefined;
  lines?: number | undefined;
}

export const logsCommand = (setExit: (code: number) => void): CommandModule<object, LogsArgs> => ({
  command: 'logs <name>',
  describe: 'print an instance’s console log (or QEMU’s or qlaunch’s), -f to follow it',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('follow', {
        type: 'boolean',
        alias: 'f',
        describe: 'keep printing what is appended (Ctrl-C ends)',
      })
      .option('source', {
        type: 'string',
        choices: ['console', 'qemu', 'qlaunch'],
        default: 'console',
        describe: 'the guest console, QEMU’s own output, or qlaunch’s JSON log of what it did',
      })
      .option('lines', {
        type: 'number',
        alias: 'n',
        describe: 'start with only the last N lines',
        coerce: countOption('lines', '50', 0),
      }),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const aborting = new AbortController();
        const onSignal = () => aborting.abort();
        process.once('SIGINT', onSignal);
        try {
          const source = (args.source ?? 'console') as LogSource;
          const options = { source, lines: args.lines, follow: args.follow, signal: aborting.signal };
          for await (const chunk of instance.logs(options)) process.stdout.write(chunk);
        } finally {
          process.off('SIGINT', onSignal);
        }
        return 0;
      }),
    ),
});

interface QmpArgs extends InstanceArgs {
  command: string;
  arguments?: string | undefined;
}

export const qmpCommand = (setExit: (code: number) => void): CommandModule<object, QmpArgs> => ({
  command: 'qmp <name> <command> [arguments]',
  describe: 'send one raw QMP command (arguments as a JSON object) and print the reply',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .positional('command', { type: 'string', demandOption: true, describe: 'e.g. query-status' })
      .positional('arguments', { type: 'string', describe: `e.g. '{"device": "disk0"}'` }),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        let parsed: unknown;
        if (args.arguments !== undefined) {
          try {
            parsed = JSON.parse(args.arguments);
          } catch (error) {
            throw new QlaunchError(
              ErrorCode.USAGE,
              `QMP arguments are not JSON: ${(error as Error).message}`,
              {
                hint: `give a JSON object, e.g. qlaunch qmp ${args.name} ${args.command} '{"key": "value"}'`,
              },
            );
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw new QlaunchError(ErrorCode.USAGE, 'QMP arguments must be a JSON object', {
              hint: `e.g. qlaunch qmp ${args.name} ${args.command} '{"key": "value"}'`,
            });
          }
        }
        printJson(await instance.qmp(args.command, parsed as Record<string, unknown> | undefined));
        return 0;
      }),
    ),
});

interface ScreenshotArgs extends InstanceArgs {
  file: string;
}

export const screenshotCommand = (
  setExit: (code: number) => void,
): CommandModule<object, ScreenshotArgs> => ({
  command: 'screenshot <name> <file>',
  describe: 'save a still picture of an instance’s screen (PNG; .ppm for raw pixels); it needs --display vnc',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .positional('file', { type: 'string', demandOption: true, describe: 'e.g. screen.png' })
      .example('$0 screenshot desk desk.png', 'what the guest shows now'),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const format = args.file.toLowerCase().endsWith('.ppm') ? 'ppm' : 'png';
        const bytes = await instance.screenshot({ format });
        const { writeFileAtomic } = await import('../../cidata/seed.js');
        await writeFileAtomic(args.file, bytes, { what: 'screenshot' });
        say(`${instance.name}: screen saved to ${args.file} (${bytes.length} bytes)`);
        return 0;
      }),
    ),
});
