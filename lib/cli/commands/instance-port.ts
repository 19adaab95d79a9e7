// `port add|rm|ls NAME`: host forwards of a running instance, changed live (always bound to 127.0.0.1 unless given).

import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { PortForward } from '../../machine/spec.js';
import { printJson, warnExposed } from '../output.js';
import { type InstanceArgs, say, withInstance } from './instance-common.js';

interface PortArgs extends InstanceArgs {
  action: string;
  port?: string | undefined;
}

const show = (f: PortForward): string =>
  `${f.hostAddress}:${f.hostPort} -> ${f.guestPort}${f.protocol === 'udp' ? '/udp' : ''}`;

/** `HOST[/udp]` for `port rm` (pure). */
export function parseHostPort(text: string): { hostPort: number; protocol: 'tcp' | 'udp' } {
  const match = /^(\d+)(?:\/(tcp|udp))?$/.exec(text);
  const hostPort = Number(match?.[1]);
  if (!match || hostPort < 1 || hostPort > 65_535) {
    throw new QlaunchError(ErrorCode.USAGE, `'${text}' is not a host port`, {
      hint: 'give the host port as `port ls` shows it, e.g. 8080 or 5353/udp',
    });
  }
  return { hostPort, protocol: (match[2] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

export const portCommand = (setExit: (code: number) => void): CommandModule<object, PortArgs> => ({
  command: 'port <action> <name> [port]',
  describe: 'forward host ports to a running instance: add NAME HOST:GUEST | rm NAME HOST | ls NAME',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['add', 'rm', 'ls'], demandOption: true })
      .positional('name', { type: 'string', demandOption: true })
      .positional('port', {
        type: 'string',
        describe: 'add: HOST:GUEST (or GUEST for a free host port); rm: HOST',
      })
      .option('json', { type: 'boolean', describe: 'print JSON' }),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        if (args.action === 'ls') {
          const ports = await instance.listPorts();
          if (args.json) printJson(ports);
          else process.stdout.write(ports.map((p) => `${show(p)}\n`).join(''));
          return 0;
        }
        if (args.port === undefined) {
          throw new QlaunchError(ErrorCode.USAGE, `port ${args.action} needs a port`, {
            hint:
              args.action === 'add'
                ? `e.g. qlaunch port add ${args.name} 8080:80`
                : `e.g. qlaunch port rm ${args.name} 8080`,
          });
        }
        if (args.action === 'add') {
          const forward = await instance.addPort(/^\d+$/.test(args.port) ? Number(args.port) : args.port);
          warnExposed([forward]);
          if (args.json) printJson(forward);
          else say(`forwarding ${show(forward)}`);
          return 0;
        }
        const { hostPort, protocol } = parseHostPort(args.port);
        const removed = await instance.removePort(hostPort, protocol);
        if (args.json) printJson(removed);
        else say(`removed ${show(removed)}`);
        return 0;
      }),
    ),
});
