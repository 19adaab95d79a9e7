// Shell completion: each script passes its shell's own parser and completes through the entry point, and the entry
// point completes commands, options, and the names of instances, images and templates from a real qlaunch home.

import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { nameSlot } from '../../lib/cli/completion.js';
import { cliPath, shortTempDir } from '../fixtures/guests.js';
import { makeQcow2 } from '../image/disks.js';

t.setTimeout(180_000);

const dir = shortTempDir(t);
const home = join(dir, 'home');
// `qlaunch` on PATH, as the scripts call it.
const bin = join(dir, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'qlaunch'), `#!/bin/sh\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
chmodSync(join(bin, 'qlaunch'), 0o755);
const env = { ...process.env, QLAUNCH_HOME: home, PATH: `${bin}:${process.env.PATH}` };

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, env: { ...env, ...extra } });

/** What the entry point answers for `words` (as a script passes them: program name first, current word last). */
async function complete(t: Test, words: string[], extra: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const result = await cli(['--get-yargs-completions', 'qlaunch', ...words], extra);
  t.equal(result.exitCode, 0, `completing ${words.join(' ')}`);
  t.equal(result.stderr, '', `nothing on stderr completing ${words.join(' ')}`);
  return result.stdout.split('\n').filter((line) => line !== '');
}

const hasShell = async (shell: string) => (await execa('which', [shell], { reject: false })).exitCode === 0;

// A stored image and an instance record made from it (create does not boot).
const disk = await makeQcow2(dir, 'tiny.qcow2', 16);
for (const args of [
  ['image', 'import', disk, '--name', 'tiny'],
  ['create', 'box', '--image', 'tiny'],
  ['network', 'create', 'lab'],
]) {
  const made = await cli(args);
  if (made.exitCode !== 0) throw new Error(`qlaunch ${args.join(' ')}: ${made.stderr}`);
}

t.test('the name a word stands for, from the words before it (pure)', async (t) => {
  t.equal(nameSlot(['start'], true), 'instance');
  t.equal(nameSlot(['rm', 'a', 'b'], true), 'instance', 'rm takes many');
  t.equal(nameSlot(['snapshot', 'save'], true), 'instance', 'after the action');
  t.equal(nameSlot(['snapshot'], true), undefined, 'the action itself is yargs’ choice');
  t.equal(nameSlot(['snapshot', 'save', 'box'], true), undefined, 'the tag is free text');
  t.equal(nameSlot(['image', 'rm'], true), 'image');
  t.equal(nameSlot(['image', 'inspect'], true), 'image');
  t.equal(nameSlot(['inspect'], true), 'instance', 'top-level inspect is an instance');
  t.equal(nameSlot(['run'], true), 'image-or-template');
  t.equal(nameSlot(['image', 'warm'], true), 'image-or-template', 'image warm takes what run takes');
  t.equal(nameSlot(['create', 'box'], false, '--image'), 'image-or-template');
  t.equal(nameSlot(['create'], true), undefined, 'a new name completes nothing');
  t.equal(nameSlot(['start', 'box'], true), undefined);
  t.equal(nameSlot(['export'], true), 'any', 'export takes an instance, template or image');
  t.equal(nameSlot(['export', 'box'], true), undefined);
  t.equal(nameSlot(['network', 'rm'], true), 'network');
  t.equal(nameSlot(['network', 'inspect'], true), 'network');
  t.equal(nameSlot(['network', 'create'], true), undefined, 'a new network name completes nothing');
  t.equal(nameSlot(['network'], true), undefined, 'the action itself is yargs’ choice');
});

t.test('the entry point: commands, subcommands, options, and names from the library', async (t) => {
  const commands = await complete(t, ['']);
  for (const name of ['run', 'create', 'start', 'image', 'snapshot', 'completion'])
    t.ok(commands.includes(name), name);
  t.same(await complete(t, ['image', '']), ['pull', 'import', 'build', 'warm', 'ls', 'inspect', 'rm']);
  t.ok((await complete(t, ['start', '--'])).includes('--wait'), 'a command’s own options');
  t.same(await complete(t, ['logs', '--source', '']), ['console', 'qemu', 'qlaunch'], 'an option’s choices');

  for (const command of [
    'start',
    'stop',
    'restart',
    'inspect',
    'ssh',
    'exec',
    'console',
    'logs',
    'qmp',
    'rm',
  ]) {
    t.same(await complete(t, [command, 'b']), ['box'], `${command} NAME`);
  }
  t.same(await complete(t, ['start', '--json', '']), ['box'], 'after a flag');
  t.same(await complete(t, ['snapshot', 'save', '']), ['box']);
  t.same(await complete(t, ['port', 'ls', '']), ['box']);
  t.same(await complete(t, ['image', 'rm', '']), ['tiny']);
  t.same(await complete(t, ['image', 'inspect', 't']), ['tiny']);
  t.same(await complete(t, ['network', '']), ['create', 'ls', 'inspect', 'rm']);
  t.same(await complete(t, ['network', 'rm', '']), ['lab']);
  t.same(await complete(t, ['network', 'inspect', 'l']), ['lab']);
  for (const words of [
    ['run', ''],
    ['create', 'new', '--image', ''],
  ]) {
    const names = await complete(t, words);
    t.ok(names.includes('tiny'), `${words.join(' ')}: stored images`);
    t.ok(names.includes('debian-12'), `${words.join(' ')}: templates from machines/`);
    t.notOk(names.includes('box'), `${words.join(' ')}: no instances`);
  }
  const fresh = await complete(t, ['create', '']);
  t.ok(
    fresh.length > 0 && fresh.every((word) => word.startsWith('--')),
    'a new instance’s name: options only',
  );
  t.same(await complete(t, ['--log-level', 'debug', 'start', '']), ['box'], 'no logs, even when asked for');
});

t.test('a broken store completes nothing for it, says nothing, and instances still complete', async (t) => {
  const broken = join(t.testdir(), 'home');
  mkdirSync(join(broken, 'instances', 'other'), { recursive: true });
  writeFileSync(join(broken, 'images'), 'a file where the store goes\n');
  t.same(await complete(t, ['image', 'rm', ''], { QLAUNCH_HOME: broken }), []);
  t.same(await complete(t, ['start', ''], { QLAUNCH_HOME: broken }), ['other']);
  const noInstances = join(t.testdir(), 'home2');
  mkdirSync(noInstances);
  writeFileSync(join(noInstances, 'instances'), 'a file\n');
  t.same(await complete(t, ['start', ''], { QLAUNCH_HOME: noInstances }), []);
});

t.test('completion SHELL prints a script its shell parses', async (t) => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const script = await cli(['completion', shell]);
    t.equal(script.exitCode, 0, script.stderr);
    t.match(script.stdout, /qlaunch --get-yargs-completions/);
    if (shell !== 'bash' && !(await hasShell(shell))) {
      t.comment(`${shell} is not installed: its parser not run`);
      continue;
    }
    const file = join(t.testdir(), shell);
    writeFileSync(file, script.stdout);
    const parsed = await execa(shell, ['-n', file], { reject: false });
    t.equal(parsed.exitCode, 0, `${shell} -n: ${parsed.stderr}`);
  }
  const bogus = await cli(['completion', 'tcsh']);
  t.equal(bogus.exitCode, 2);
  t.match(bogus.stderr, /Invalid values:[\s\S]*tcsh/);
});

t.test('each script completes through the entry point in its own shell', async (t) => {
  const scripts = join(t.testdir(), 'x');
  mkdirSync(scripts);
  for (const shell of ['bash', 'zsh', 'fish']) {
    writeFileSync(join(scripts, shell), (await cli(['completion', shell])).stdout);
  }
  const bash = await execa(
    'bash',
    [
      '-c',
      `source '${join(scripts, 'bash')}'
       COMP_WORDS=(qlaunch start b); COMP_CWORD=2; _qlaunch_completions; echo "\${COMPREPLY[*]}"
       COMP_WORDS=(qlaunch image rm ""); COMP_CWORD=3; _qlaunch_completions; echo "\${COMPREPLY[*]}"
       COMP_WORDS=(qlaunch ima start); COMP_CWORD=1; _qlaunch_completions; echo "\${COMPREPLY[*]}"`,
    ],
    { env },
  );
  t.equal(bash.stdout, 'box\ntiny\nimage', 'bash: names and commands, words after the cursor ignored');

  if (await hasShell('zsh')) {
    // Outside a completion widget: compadd prints what matches PREFIX, as the real one adds it; compdef is compinit's.
    const zsh = await execa(
      'zsh',
      [
        '-fc',
        `compdef() {}; _files() { print FILES }
         compadd() { shift; local -a m; m=(\${(M)@:#\${PREFIX}*}); (( $#m )) && print -l -- $m }
         source '${join(scripts, 'zsh')}'
         words=(qlaunch start ""); CURRENT=3; PREFIX=""; _qlaunch
         words=(qlaunch run ./ti); CURRENT=3; PREFIX=./ti; _qlaunch`,
      ],
      { env },
    );
    t.equal(zsh.stdout, 'box\nFILES', 'zsh: names, else files');
  }

  if (await hasShell('fish')) {
    const fish = await execa(
      'fish',
      [
        '-c',
        `source '${join(scripts, 'fish')}'
         complete -C 'qlaunch start '; complete -C 'qlaunch image rm t'; complete -C 'qlaunch run ${dir}/tin'`,
      ],
      { env },
    );
    t.equal(fish.stdout, `box\ntiny\n${dir}/tiny.qcow2`, 'fish: names, else files');
  }
});
