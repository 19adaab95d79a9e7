// `ls` and `inspect`: what instances exist and what state each is really in.

import type { CommandModule } from 'yargs';
import type { InstanceInfo } from '../../instance/instance.js';
import { printJson, reportError } from '../output.js';
import { printable } from '../printable.js';
import { type InstanceArgs, instanceOptions, withInstance } from './instance-common.js';

const portsText = (info: InstanceInfo): string =>
  info.ports
    .map((p) => `${p.hostAddress}:${p.hostPort}->${p.guestPort}${p.protocol === 'udp' ? '/udp' : ''}`)
    .join(',') || '-';

/** The `ls` table (pure); a damaged instance's error goes in a PROBLEM column, last, on one line. */
export function formatInstances(list: readonly (InstanceInfo | { name: string; error: string })[]): string {
  if (list.length === 0) return 'no instances; make one with `qlaunch create NAME --image debian-12`\n';
  const problems = list.some((item) => 'error' in item);
  const rows = [
    ['NAME', 'STATE', 'ARCH', 'CPUS', 'MEMORY', 'PORTS', 'NETWORKS', ...(problems ? ['PROBLEM'] : [])],
  ];
  for (const item of list) {
    if ('error' in item) {
      rows.push([printable(item.name), 'damaged', '-', '-', '-', '-', '-', printable(item.error)]);
    } else {
      rows.push([
        printable(item.name),
        item.state,
        item.arch,
        String(item.cpus),
        `${item.memoryMiB}M`,
        portsText(item),
        item.networks.join(',') || '-',
        ...(problems ? ['-'] : []),
      ]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n')}\n`;
}

export const lsCommand = (
  setExit: (code: number) => void,
): CommandModule<object, { json?: boolean | undefined; 'log-level'?: string | undefined }> => ({
  command: 'ls',
  describe: 'list instances and their state (running, paused, stopped, crashed)',
  builder: (y) => y.option('json', { type: 'boolean', describe: 'print JSON' }),
  handler: async (args) => {
    try {
      const { Instance } = await import('../../instance/instance.js');
      const list = await Instance.list(await instanceOptions(args));
      if (args.json) printJson(list);
      else process.stdout.write(formatInstances(list));
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});

/** The pinned QEMU machine type and the QEMU that chose it (pure). */
const machineTypeText = (pin: { name: string; qemuVersion?: string | undefined } | undefined): string =>
  pin === undefined
    ? 'not pinned yet (its next start pins it)'
    : `${pin.name}${pin.qemuVersion ? ` (pinned under QEMU ${pin.qemuVersion})` : ''}`;

export const inspectCommand = (setExit: (code: number) => void): CommandModule<object, InstanceArgs> => ({
  command: 'inspect <name>',
  describe: 'show an instance: state, machine, ports, SSH, files',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean', describe: 'print JSON (with the full config)' }),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const info = await instance.info();
        if (args.json) {
          printJson({ ...info, config: instance.config });
          return 0;
        }
        const lines = [
          `name:     ${info.name}`,
          `state:    ${info.state} (${info.detail})${info.pid ? `, pid ${info.pid}` : ''}`,
          `machine:  ${info.arch}, ${info.cpus} vCPU, ${info.memoryMiB} MiB, from ${info.source}${warmText(info.warm)}`,
          `type:     ${machineTypeText(instance.config.machineType)}`,
          `ports:    ${portsText(info)}`,
          `networks: user${instance.config.networks.map((n) => `, private:${n.name}${n.address ? ` (${n.address})` : ''}`).join('')}`,
          ...(instance.config.mounts?.length
            ? [
                `mounts:   ${instance.config.mounts
                  .map((m) => `${m.host} on ${m.guest} (${m.writable ? 'rw' : 'ro'}, ${m.transport})`)
                  .join(', ')}`,
              ]
            : []),
          ...(info.ssh
            ? [`ssh:      ssh -p ${info.ssh.port} -i ${info.ssh.key} ${info.ssh.user}@${info.ssh.host}`]
            : []),
          `created:  ${info.created}`,
          `dir:      ${info.dir}`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
        return 0;
      }),
    ),
});

/** A warm instance's origin: its first start restores the saved machine, later ones boot its disk. */
const warmText = (warm: InstanceInfo['warm']): string =>
  warm === undefined
    ? ''
    : warm.restored
      ? ' (a warm image, restored on its first start; starts boot its disk)'
      : ' (a warm image: its first start restores the saved machine)';
