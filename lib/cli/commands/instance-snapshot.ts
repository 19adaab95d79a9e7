// `snapshot save|load|ls|rm NAME [TAG]`: internal qcow2 snapshots of an instance, to put it back in seconds.

import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import type { SnapshotInfo } from '../../instance/instance.js';
import { printJson } from '../output.js';
import { type InstanceArgs, say, withInstance } from './instance-common.js';

interface SnapshotArgs extends InstanceArgs {
  action: string;
  tag?: string | undefined;
  replace?: boolean | undefined;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The `snapshot ls` table (pure). */
export function formatSnapshots(list: readonly SnapshotInfo[]): string {
  if (list.length === 0) return '';
  const rows = [['TAG', 'DATE', 'VM STATE', 'GUEST TIME']];
  for (const s of list) {
    rows.push([s.tag, s.date.toISOString(), mib(s.vmStateSize), `${(s.vmClock / 1e9).toFixed(1)} s`]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export const snapshotCommand = (setExit: (code: number) => void): CommandModule<object, SnapshotArgs> => ({
  command: 'snapshot <action> <name> [tag]',
  describe: 'internal snapshots of an instance: save NAME TAG | load NAME TAG | rm NAME TAG | ls NAME',
  builder: (y) =>
    y
      .positional('action', { type: 'string', choices: ['save', 'load', 'ls', 'rm'], demandOption: true })
      .positional('name', { type: 'string', demandOption: true })
      .positional('tag', { type: 'string', describe: 'the snapshot’s name' })
      .option('replace', { type: 'boolean', describe: 'save: replace a snapshot with the same tag' })
      .option('json', { type: 'boolean', describe: 'print JSON' })
      .example('$0 snapshot save web clean', 'save the running instance’s disk and memory as "clean"')
      .example('$0 snapshot load web clean', 'put it back to "clean" in seconds')
      .example('$0 snapshot ls web', 'list its snapshots'),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        if (args.action === 'ls') {
          const list = await instance.listSnapshots();
          if (args.json) printJson(list);
          else process.stdout.write(formatSnapshots(list));
          return 0;
        }
        const tag = args.tag;
        if (tag === undefined) {
          throw new QlaunchError(ErrorCode.USAGE, `snapshot ${args.action} needs a TAG`, {
            hint: `e.g. qlaunch snapshot ${args.action} ${args.name} clean`,
          });
        }
        const started = Date.now();
        const took = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
        if (args.action === 'save') {
          const info = await instance.saveSnapshot(tag, { replace: args.replace });
          if (args.json) printJson(info);
          else
            say(
              `saved snapshot ${tag} of ${instance.name} (${mib(info.vmStateSize)} of VM state) in ${took()}`,
            );
        } else if (args.action === 'load') {
          const info = await instance.loadSnapshot(tag);
          if (args.json) printJson(info);
          else say(`${instance.name} is back at snapshot ${tag} (${took()})`);
        } else {
          await instance.deleteSnapshot(tag);
          say(`deleted snapshot ${tag} of ${instance.name}`);
        }
        return 0;
      }),
    ),
});
