// Pure: turns exec()'s argv and options into `guest-exec` arguments, refusing what the agent cannot run.

import { QgaArgumentError } from './errors.js';

export interface GuestExecInput {
  /** Bytes for the program's stdin (a string is sent as UTF-8); without it stdin is the agent's (/dev/null). */
  input?: string | Uint8Array | undefined;
  /** The whole environment, `NAME=value` each; without it the program inherits the agent's environment. */
  env?: readonly string[] | undefined;
}

export interface GuestExecArgs {
  path: string;
  arg: string[];
  env?: string[];
  'input-data'?: string;
  'capture-output': true;
}

const PREVIEW_CHARS = 80;

/** argv for messages: JSON-quoted words, shortened so a huge script does not flood the error. */
export const describeArgv = (argv: readonly string[]): string => {
  const text = argv.map((word) => (/^[\w./:=@%+-]+$/.test(word) ? word : JSON.stringify(word))).join(' ');
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
};

const checkWords = (value: unknown, option: string, allowEmpty: boolean): string[] => {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    throw new QgaArgumentError(
      `Expected \`${option}\` to be ${allowEmpty ? 'an' : 'a non-empty'} array of strings, got ${Array.isArray(value) ? 'an empty array' : typeof value}`,
    );
  }
  value.forEach((word, i) => {
    if (typeof word !== 'string') {
      throw new QgaArgumentError(`Expected \`${option}[${i}]\` to be a string, got ${typeof word}`);
    }
    // The agent hands these to execve as C strings: a NUL would silently cut the word.
    if (word.includes('\0')) {
      throw new QgaArgumentError(
        `\`${option}[${i}]\` contains a NUL byte, which a program argument cannot hold`,
      );
    }
  });
  return [...(value as string[])];
};

/** Validates and builds the `guest-exec` arguments; argv[0] is the program, run without a shell. */
export const buildExecArgs = (argv: readonly string[], options: GuestExecInput = {}): GuestExecArgs => {
  const words = checkWords(argv, 'argv', false);
  const [path = '', ...arg] = words;
  if (path === '') throw new QgaArgumentError('Expected `argv[0]` to name a program, got an empty string');
  const args: GuestExecArgs = { path, arg, 'capture-output': true };
  if (options.env !== undefined) {
    const env = checkWords(options.env, 'env', true);
    env.forEach((entry, i) => {
      if (!entry.includes('=') || entry.startsWith('=')) {
        throw new QgaArgumentError(`Expected \`env[${i}]\` to be NAME=value, got ${JSON.stringify(entry)}`);
      }
    });
    args.env = env;
  }
  const { input } = options;
  if (input !== undefined) {
    if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
      throw new QgaArgumentError(`Expected \`input\` to be a string or a Buffer, got ${typeof input}`);
    }
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
    args['input-data'] = bytes.toString('base64');
  }
  return args;
};
