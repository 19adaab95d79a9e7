// What qlaunch writes is plain text: progress to a pipe is whole lines, a terminal gets a bar redrawn in place but
// no colour, and NO_COLOR leaves help, errors and progress as plain as ever.

import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { makeQcow2 } from '../image/disks.js';

t.setTimeout(120_000);

const dir = shortTempDir(t);
const disk = await makeQcow2(dir, 'plain.qcow2', 16);
const ESC = '\u001b';
// An SGR sequence: what sets colour, bold, underline.
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);

/** `qlaunch args` on a pseudo-terminal (util-linux script), as an interactive shell runs it; its whole output. */
async function onTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = [process.execPath, cliPath, ...args].map((word) => `'${word}'`).join(' ');
  const result = await execa('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, COLUMNS: '80', TERM: 'xterm-256color', ...env },
    reject: false,
  });
  return result.stdout;
}

t.test('progress to a pipe: whole lines, no carriage return, no escape sequence', async (t) => {
  const imported = await execa(process.execPath, [cliPath, 'image', 'import', disk, '--name', 'piped'], {
    env: { ...process.env, QLAUNCH_HOME: join(dir, 'piped') },
  });
  t.match(imported.stderr, /^importing .*plain\.qcow2 {2}100% {2}/m, 'the final progress line');
  t.notOk(imported.stderr.includes('\r'), 'no carriage return');
  t.notOk(imported.stderr.includes(ESC), 'no escape sequence');
});

t.test('on a terminal: the bar is redrawn in place, and nothing is coloured', async (t) => {
  const output = await onTerminal(['image', 'import', disk, '--name', 'tty'], {
    QLAUNCH_HOME: join(dir, 'tty'),
  });
  t.match(
    output,
    new RegExp(`\\rimporting .*100%.*${ESC}\\[K`),
    'redrawn: carriage return, erase to the end of the line',
  );
  t.notMatch(output, SGR);
});

t.test('NO_COLOR: help, errors and progress on a terminal carry no colour', async (t) => {
  const env = { NO_COLOR: '1', QLAUNCH_HOME: join(dir, 'nocolor') };
  const help = await onTerminal(['--help'], env);
  t.match(help, /Commands:/);
  t.notMatch(help, SGR, 'help');
  const error = await onTerminal(['start', 'missing'], env);
  t.match(error, /qlaunch: .*missing/);
  t.notMatch(error, SGR, 'an error');
  const progress = await onTerminal(['image', 'import', disk, '--name', 'nc'], env);
  t.match(progress, /100%/);
  t.notMatch(progress, SGR, 'progress');
});

t.test('a terminal that cannot move the cursor (TERM=dumb) gets the plain lines a pipe gets', async (t) => {
  const output = await onTerminal(['image', 'import', disk, '--name', 'dumb'], {
    TERM: 'dumb',
    QLAUNCH_HOME: join(dir, 'dumb'),
  });
  t.match(output, /^importing .*plain\.qcow2 {2}100% {2}/m);
  t.notOk(output.includes(ESC), 'no escape sequence');
  t.notMatch(output, /\r(?!\n)/, 'no carriage return but the terminal’s own line ends');
});
