// ssh's command line for a guest (PURE): the options that keep a user's config out and pin the guest's key, the
// master connection's, and POSIX quoting of a remote command.

import { ErrorCode, QlaunchError } from '../../errors.js';

export interface SshTarget {
  /** Where the forward listens; qlaunch binds its forwards to 127.0.0.1. */
  host: string;
  port: number;
  user: string;
  /** The per-instance private key (0600). */
  privateKey: string;
  /** Pin the guest's host key here on first use; without it, host keys are neither checked nor kept. */
  knownHostsFile?: string | undefined;
  /**
   * A master connection's socket (see ssh-master.ts): commands ride that logged-in connection while it is up, and
   * connect on their own once it is gone.
   */
  controlPath?: string | undefined;
}

export interface SshArgsOptions {
  /** Ask for a terminal (-t) for a person at a keyboard; otherwise -T. */
  interactive?: boolean | undefined;
  /** Seconds for the TCP connect plus the SSH handshake (default 10). */
  connectTimeout?: number | undefined;
  /** Seconds between keepalives; a guest that misses 3 in a row is given up on (default 5). */
  serverAliveInterval?: number | undefined;
  /** Be the master at the target's controlPath: log in, run nothing (-N), serve the commands that ride it. */
  master?: boolean | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** ssh's exit status for a failure of its own: no connection, no login (or a remote command that exited 255). */
export const SSH_FAILED = 255;
const DEFAULT_ALIVE_INTERVAL_S = 5;

const invalid = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.SPEC_INVALID, message, { hint });

// Names useradd and cloud-init accept; a leading '-' would read as an option.
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*\$?$/;

/** A path as ssh's config parser must see it: ssh expands `%` tokens (and `${VAR}`) in key and known-hosts paths. */
function sshPath(what: string, path: string): string {
  if (path === '' || path.includes('${') || path.includes('"') || /[\0\n\r]/.test(path)) {
    throw invalid(
      `the ${what} path ${JSON.stringify(path)} cannot be given to ssh`,
      `move the ${what} to a plain path`,
    );
  }
  return path.replaceAll('%', '%%');
}

const positiveInteger = (what: string, value: number): string => {
  if (!Number.isInteger(value) || value <= 0) {
    throw invalid(
      `${what} must be a positive whole number of seconds, got ${value}`,
      `pass e.g. ${what}: 10`,
    );
  }
  return String(value);
};

// Through a forward on this host the traffic never leaves it: X25519 first, as strong as ever against anyone but a
// future quantum recorder of the wire, and ~0.1 s less of a TCG guest's time per connection than the sntrup761
// hybrid (kept as a fallback), OpenSSH's default since 9.0.
const LOOPBACK_KEX = 'curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com';

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

/** ssh's options and destination for `target` (PURE); a remote command goes after them. */
export function sshArgs(target: SshTarget, options: SshArgsOptions = {}): string[] {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) {
    throw invalid(
      `SSH port ${target.port} is not a TCP port`,
      'use the host port of the forward to guest port 22',
    );
  }
  if (!USER_NAME.test(target.user)) {
    throw invalid(
      `SSH user ${JSON.stringify(target.user)} is not a user name`,
      'use the image default user, e.g. debian',
    );
  }
  if (target.host === '' || target.host.startsWith('-') || /[\s@]/.test(target.host)) {
    throw invalid(`SSH host ${JSON.stringify(target.host)} is not a host name or address`, 'use 127.0.0.1');
  }
  const knownHosts = target.knownHostsFile;
  const control = target.controlPath;
  if (options.master && control === undefined) {
    throw invalid('an SSH master connection needs a control socket path', 'give the target a controlPath');
  }
  return [
    // No ~/.ssh/config or /etc/ssh/ssh_config: a user's ProxyCommand or ControlMaster must not reach the guest.
    '-F',
    'none',
    '-i',
    sshPath('private key', target.privateKey),
    '-p',
    String(target.port),
    '-l',
    target.user,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    // With a per-instance file, the first key seen is pinned (a changed one is refused); without, nothing is kept.
    '-o',
    `StrictHostKeyChecking=${knownHosts === undefined ? 'no' : 'accept-new'}`,
    '-o',
    `UserKnownHostsFile=${knownHosts === undefined ? '/dev/null' : `"${sshPath('known-hosts file', knownHosts)}"`}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    `ConnectTimeout=${positiveInteger('connectTimeout', options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S)}`,
    '-o',
    `ServerAliveInterval=${positiveInteger('serverAliveInterval', options.serverAliveInterval ?? DEFAULT_ALIVE_INTERVAL_S)}`,
    '-o',
    'ServerAliveCountMax=3',
    ...(isLoopback(target.host) ? ['-o', `KexAlgorithms=${LOOPBACK_KEX}`] : []),
    ...(control === undefined
      ? []
      : [
          '-o',
          `ControlMaster=${options.master ? 'yes' : 'no'}`,
          '-o',
          `ControlPath="${sshPath('control socket', control)}"`,
          // The master lives exactly as long as its process: nothing forks into the background.
          ...(options.master ? ['-o', 'ControlPersist=no', '-N'] : []),
        ]),
    options.interactive ? '-t' : '-T',
    '--',
    target.host,
  ];
}

/** One string that a POSIX shell splits back into exactly `argv`: each word in single quotes, `'` as `'\''`. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
}

/** ssh joins its command words with spaces for the remote login shell, so the argv travels as one quoted string. */
export function remoteCommand(argv: readonly string[]): string {
  if (argv.some((word) => word.includes('\0'))) {
    throw invalid('a command word contains a NUL byte', 'remove the NUL byte: no program can receive one');
  }
  return shellQuote(argv);
}
