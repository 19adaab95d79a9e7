// A per-instance ed25519 key pair made with the system ssh-keygen: private and public halves 0600 in a 0700 dir.

import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';

/** Debian package that ships ssh and ssh-keygen, for install hints. */
export const OPENSSH_CLIENT_PACKAGE = 'openssh-client';

export const DEFAULT_KEY_NAME = 'id_ed25519';

export interface KeyPairOptions {
  /** The key's comment, the last field of the public key line (e.g. "qlaunch@NAME"). */
  comment?: string | undefined;
  /** File name of the private key in `dir`; the public key gets `.pub` (default id_ed25519). */
  name?: string | undefined;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
  /** The one-line public key, without its newline, as it goes into meta-data `public-keys`. */
  publicKeyText: string;
}

export const missingOpenSsh = (tool: string, cause?: unknown): QlaunchError =>
  new QlaunchError(ErrorCode.HOST_TOOL_MISSING, `${tool} is not installed (it comes with OpenSSH's client)`, {
    hint: `install it: apt-get install ${OPENSSH_CLIENT_PACKAGE}`,
    cause,
  });

// A control character (a newline above all) in the comment would end the authorized_keys line early.
const PLAIN_COMMENT = /^[^\p{Cc}]*$/u;

/** ssh-keygen's argv for a new passphrase-less ed25519 key at `path`. */
export function keygenArgs(path: string, comment: string): string[] {
  if (!PLAIN_COMMENT.test(comment)) {
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `the SSH key comment ${JSON.stringify(comment)} has a control character`,
      {
        hint: 'use a one-line comment such as qlaunch@NAME',
      },
    );
  }
  return ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path];
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** Create `dir` (0700) and a fresh key pair in it; an existing key is never overwritten. */
export async function createKeyPair(dir: string, options: KeyPairOptions = {}): Promise<KeyPair> {
  const name = options.name ?? DEFAULT_KEY_NAME;
  if (name === '' || name.includes('/')) {
    throw new QlaunchError(
      ErrorCode.SPEC_INVALID,
      `the SSH key name ${JSON.stringify(name)} is not a file name`,
      {
        hint: 'give a plain file name such as id_ed25519',
      },
    );
  }
  const args = keygenArgs(join(dir, name), options.comment ?? 'qlaunch');
  const privateKey = join(dir, name);
  const publicKey = `${privateKey}.pub`;
  if ((await exists(privateKey)) || (await exists(publicKey))) {
    throw new QlaunchError(ErrorCode.VM_SSH, `the SSH key ${privateKey} already exists`, {
      hint: 'use the existing key, or remove it (and its .pub) to make a new one',
    });
  }
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode passes through the umask; only a directory we made is ours to chmod.
  if (created !== undefined) await chmod(dir, 0o700);
  const { execa } = await import('execa');
  const result = await execa('ssh-keygen', args, { reject: false, stdin: 'ignore' });
  if (result.failed) {
    if ((result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      throw missingOpenSsh('ssh-keygen', result.cause);
    }
    throw new QlaunchError(
      ErrorCode.VM_SSH,
      `ssh-keygen could not create ${privateKey}: ${String(result.stderr).trim() || result.shortMessage}`,
      { hint: `check that ${dir} is writable` },
    );
  }
  // ssh-keygen writes the private key 0600 but the .pub by the umask; nothing of an instance is for others.
  await chmod(publicKey, 0o600);
  const publicKeyText = (await readFile(publicKey, 'utf8')).trim();
  return { privateKey, publicKey, publicKeyText };
}
