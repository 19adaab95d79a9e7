// `--help` at 60, 80 and 120 columns: no line wider than the terminal, and no word cut in two; examples shown.

import { execa } from 'execa';
import t from 'tap';
import { imageCommand } from '../../lib/cli/commands/image.js';
import { pullCommand } from '../../lib/cli/commands/image-pull.js';
import { execCommand, sshCommand } from '../../lib/cli/commands/instance-access.js';
import { createCommand, startCommand } from '../../lib/cli/commands/instance-lifecycle.js';
import { snapshotCommand } from '../../lib/cli/commands/instance-snapshot.js';
import { networkCommand, networkCreateCommand } from '../../lib/cli/commands/network.js';
import { runCommand } from '../../lib/cli/commands/run.js';
import { uiCommand } from '../../lib/cli/commands/ui.js';
import { cliPath } from '../fixtures/guests.js';

t.setTimeout(120_000);

const noExit = () => {};

interface Described {
  describe?: unknown;
  builder?: unknown;
}

/**
 * The texts a command puts in its help: its description and those of its positionals, options and examples (and
 * subcommands), recorded by running its builder on a stand-in for yargs.
 */
function helpTexts(command: Described): string[] {
  const texts: string[] = typeof command.describe === 'string' ? [command.describe] : [];
  const record = (method: string, args: unknown[]) => {
    if (method === 'option' || method === 'positional') {
      const describe = (args[1] as { describe?: unknown } | undefined)?.describe;
      if (typeof describe === 'string') texts.push(describe);
    }
    if (method === 'example') texts.push(...args.filter((arg): arg is string => typeof arg === 'string'));
    if (method === 'command') texts.push(...helpTexts(args[0] as Described).slice(0, 1));
  };
  const stand: object = new Proxy(
    {},
    {
      get:
        (_, method) =>
        (...args: unknown[]) => {
          record(String(method), args);
          return stand;
        },
    },
  );
  if (typeof command.builder === 'function') command.builder(stand);
  return texts;
}

const pages: [string[], string[]][] = [
  [
    [],
    [runCommand, createCommand, startCommand, sshCommand, execCommand, snapshotCommand, imageCommand].map(
      (make) => make(noExit).describe as string,
    ),
  ],
  [['run'], helpTexts(runCommand(noExit))],
  [['create'], helpTexts(createCommand(noExit))],
  [['exec'], helpTexts(execCommand(noExit))],
  [['snapshot'], helpTexts(snapshotCommand(noExit))],
  [['image'], helpTexts(imageCommand(noExit))],
  [['start'], helpTexts(startCommand(noExit))],
  [['ssh'], helpTexts(sshCommand(noExit))],
  [['image', 'pull'], helpTexts(pullCommand(noExit))],
  [['network'], helpTexts(networkCommand(noExit))],
  [['network', 'create'], helpTexts(networkCreateCommand(noExit))],
  [['ui'], helpTexts(uiCommand(noExit))],
];

for (const columns of [60, 80, 120]) {
  t.test(`help at ${columns} columns`, async (t) => {
    for (const [command, texts] of pages) {
      const help = await execa(process.execPath, [cliPath, ...command, '--help'], {
        env: { ...process.env, COLUMNS: String(columns) },
      });
      const name = `qlaunch ${[...command, '--help'].join(' ')}`;
      const wide = help.stdout.split('\n').filter((line) => [...line].length > columns);
      t.same(wide, [], `${name}: no line over ${columns} columns`);
      const words = new Set(help.stdout.split(/\s+/));
      const cut = texts
        .flatMap((text) => text.replaceAll('$0', 'qlaunch').split(/\s+/))
        .filter((w) => !words.has(w));
      t.same(cut, [], `${name}: every word of every description whole`);
      if (command.length > 0 && command.join(' ') !== 'image')
        t.match(help.stdout, /\nExamples:\n {2}qlaunch /, `${name}: examples`);
    }
  });
}

t.test('on a terminal, its own width counts (over $COLUMNS)', async (t) => {
  const run = `stty cols 60; '${process.execPath}' '${cliPath}' exec --help`;
  const help = await execa('script', ['-qec', run, '/dev/null'], { env: { ...process.env, COLUMNS: '200' } });
  const lines = help.stdout.replaceAll('\r', '').split('\n');
  t.ok(
    lines.some((line) => line.startsWith('Options:')),
    'help shown',
  );
  t.same(
    lines.filter((line) => [...line].length > 60),
    [],
    'no line over the terminal’s 60 columns',
  );
});
