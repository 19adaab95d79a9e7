// Shell completion: `qlaunch completion bash|zsh|fish` prints a script; the script asks `qlaunch
// --get-yargs-completions WORDS…`, which completes commands and options (yargs) and instance, image, template and
// network names.

import type { CommandModule } from 'yargs';

/** The option a shell's script passes, first, to ask for completions (yargs' own key). */
export const COMPLETION_KEY = '--get-yargs-completions';

// Each script passes the words up to the cursor and, when that yields nothing, falls back to file names (a disk
// file is a valid IMAGE); errors never reach the terminal.
const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

const SCRIPTS: Record<Shell, string> = {
  bash: `# qlaunch completion for bash; install: qlaunch completion bash > ~/.local/share/bash-completion/completions/qlaunch
_qlaunch_completions() {
  local cur_word="\${COMP_WORDS[COMP_CWORD]}"
  local IFS=$'\\n'
  local found
  found=$(qlaunch ${COMPLETION_KEY} "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  COMPREPLY=($(compgen -W "\${found}" -- "\${cur_word}"))
  return 0
}
complete -o bashdefault -o default -F _qlaunch_completions qlaunch
`,
  zsh: `#compdef qlaunch
# qlaunch completion for zsh; install: qlaunch completion zsh > ~/.zfunc/_qlaunch, with fpath=(~/.zfunc $fpath)
# before compinit in ~/.zshrc (or: source <(qlaunch completion zsh), after compinit)
_qlaunch() {
  local -a found
  found=("\${(@f)$(qlaunch ${COMPLETION_KEY} "\${(@)words[1,CURRENT]}" 2>/dev/null)}")
  found=("\${(@)found:#}")
  compadd -- "\${(@)found}" || _files
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _qlaunch "$@"
else
  compdef _qlaunch qlaunch
fi
`,
  fish: `# qlaunch completion for fish; install: qlaunch completion fish > ~/.config/fish/completions/qlaunch.fish
function __qlaunch_complete
    set -l words (commandline -opc)
    set -l current (commandline -ct)
    set -l found (string match -- "$current*" (qlaunch ${COMPLETION_KEY} $words "$current" 2>/dev/null))
    if test (count $found) -gt 0
        printf '%s\\n' $found
    else
        __fish_complete_path "$current"
    end
end
complete -c qlaunch -f -a '(__qlaunch_complete)'
`,
};

export const completionCommand = (
  setExit: (code: number) => void,
): CommandModule<object, { shell: Shell }> => ({
  command: 'completion <shell>',
  describe: 'print a completion script for bash, zsh or fish (see the README to install it)',
  builder: (y) =>
    y
      .positional('shell', { type: 'string', choices: SHELLS, demandOption: true })
      .example('source <(qlaunch completion bash)', 'complete qlaunch in this bash session'),
  handler: (args) => {
    process.stdout.write(SCRIPTS[args.shell]);
    setExit(0);
  },
});

/** What a word being completed names. */
export type NameSlot = 'instance' | 'image' | 'image-or-template' | 'network' | 'any';

// Commands whose first positional is an instance's name; `port` and `snapshot` take it after their action.
const INSTANCE_FIRST = new Set([
  'start',
  'stop',
  'restart',
  'inspect',
  'ssh',
  'exec',
  'console',
  'logs',
  'qmp',
  'screenshot',
]);
const INSTANCE_SECOND = new Set(['port', 'snapshot']);
const IMAGE_NAMED = new Set(['rm', 'remove', 'inspect']);
const NETWORK_NAMED = IMAGE_NAMED;

/**
 * Which names complete the word after `before` (the command words and positionals already typed) or, when
 * `previous` is an option taking a value, that option's value (pure).
 */
export function nameSlot(
  before: readonly string[],
  positional: boolean,
  previous?: string,
): NameSlot | undefined {
  if (previous === '--image') return 'image-or-template';
  if (!positional) return undefined;
  const [command, ...rest] = before;
  if (command === undefined) return undefined;
  if (command === 'image' && rest.length === 1 && rest[0] === 'warm') return 'image-or-template';
  if (command === 'image') return rest.length === 1 && IMAGE_NAMED.has(rest[0] ?? '') ? 'image' : undefined;
  if (command === 'network') {
    return rest.length === 1 && NETWORK_NAMED.has(rest[0] ?? '') ? 'network' : undefined;
  }
  if (command === 'rm') return 'instance';
  if (command === 'run') return rest.length === 0 ? 'image-or-template' : undefined;
  // `export NAME` takes an instance as readily as a template or stored image.
  if (command === 'export') return rest.length === 0 ? 'any' : undefined;
  if (INSTANCE_FIRST.has(command)) return rest.length === 0 ? 'instance' : undefined;
  if (INSTANCE_SECOND.has(command)) return rest.length === 1 ? 'instance' : undefined;
  return undefined;
}

// Each listing on its own: a broken image store still completes instance names, and never says why.
const quietly = async (list: () => Promise<string[]>): Promise<string[]> => {
  try {
    return await list();
  } catch {
    return [];
  }
};

/** The names for `slot`, from the library's own listings; anything unreadable completes nothing. */
async function namesFor(slot: NameSlot): Promise<string[]> {
  const instances = async () => (await import('../instance/registry.js')).instanceNames();
  const images = async () => {
    const { listImages, openImageStore } = await import('../image/store.js');
    return (await listImages(openImageStore())).images.map((image) => image.name);
  };
  const templates = async () =>
    (await (await import('../machine/templates.js')).listTemplates()).map((template) => template.name);
  if (slot === 'instance') return quietly(instances);
  if (slot === 'network') {
    return quietly(async () => {
      const { listNetworks } = await import('../network/store.js');
      return (await listNetworks()).networks.map((network) => network.name);
    });
  }
  if (slot === 'image') return quietly(images);
  const [named, stored, shipped] = await Promise.all([
    slot === 'any' ? quietly(instances) : [],
    quietly(images),
    quietly(templates),
  ]);
  return [...new Set([...named, ...stored, ...shipped])].sort();
}

type Done = (completions: string[]) => void;
type DefaultCompletion = (
  onCompleted?: (error: Error | null, completions: string[] | undefined) => void,
) => void;

/**
 * yargs' completion function: names where a name goes, yargs' own commands and options elsewhere. `words` are the
 * words the shell passed (program name first, the word being completed last).
 */
export const completeWords =
  (words: readonly string[]) =>
  (current: string, argv: { _: (string | number)[] }, defaults: DefaultCompletion, done: Done): void => {
    const positionals = argv._.map(String).slice(1);
    const positional = !current.startsWith('-') && positionals.at(-1) === current;
    const slot = current.startsWith('-')
      ? undefined
      : nameSlot(positional ? positionals.slice(0, -1) : positionals, positional, words.at(-2));
    if (slot === undefined) {
      defaults((error, completions) => done(error ? [] : (completions ?? [])));
      return;
    }
    namesFor(slot).then(done, () => done([]));
  };
