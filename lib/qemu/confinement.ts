// How QEMU is confined, as libvirt does by default (pure): a seccomp filter, and an unprivileged user under root.

/** How a QEMU is confined: its seccomp filter, and the user it drops to once its files are open. */
export interface Confinement {
  /** `-sandbox on,…`: obsolete, spawn and resource-control system calls denied. */
  sandbox: boolean;
  /** `-runas USER`: QEMU opens its files, sockets and ports as root, then runs as this user. */
  runAs?: string | undefined;
}

/** The opt-outs a guest can carry (run/create flags, launch() input, machine-file keys, the instance config). */
export interface ConfinementChoice {
  /** false: QEMU runs without a seccomp filter. Default true. */
  sandbox?: boolean | undefined;
  /** true: under root, QEMU keeps running as root. Default false. */
  runAsRoot?: boolean | undefined;
}

/**
 * The seccomp filter. `elevateprivileges` is denied only when QEMU keeps its user: `-runas` drops privileges with
 * setuid()/setgid() after the filter is in place, so denying them kills QEMU; once dropped it has no capability
 * left, and the filter sets no_new_privs, so those calls cannot gain anything.
 */
export const sandboxOption = (runAs: string | undefined, spawn = false): string =>
  [
    'on',
    'obsolete=deny',
    runAs === undefined ? 'elevateprivileges=deny' : 'elevateprivileges=allow',
    // QEMU starts qemu-bridge-helper for a bridged NIC itself: with one, the filter lets it.
    spawn ? 'spawn=allow' : 'spawn=deny',
    'resourcecontrol=deny',
  ].join(',');

/** What QEMU prints to stderr (its log) when asked to shut down, given `SHUTDOWN_TRACE`. */
export const SHUTDOWN_LOGGED = /^qemu_system_shutdown_request |terminating on signal/m;
const SHUTDOWN_TRACE = ['-trace', 'enable=qemu_system_shutdown_request'];

/**
 * The argv part for a confinement. QEMU run as another user cannot remove its pidfile from a root-only directory
 * on a clean exit, so with a pidfile its log says instead when it was asked to shut down.
 */
export function confinementArgs(
  confinement: Confinement | undefined,
  pidFile?: string,
  spawn = false,
): string[] {
  if (!confinement) return [];
  const runAs = confinement.runAs;
  return [
    ...(confinement.sandbox ? ['-sandbox', sandboxOption(runAs, spawn)] : []),
    ...(runAs === undefined ? [] : ['-runas', runAs]),
    ...(runAs !== undefined && pidFile !== undefined ? SHUTDOWN_TRACE : []),
  ];
}

/** One line per protection given up, for stderr: what an opt-out costs. */
export function confinementWarnings(choice: ConfinementChoice, root: boolean): string[] {
  const lines: string[] = [];
  if (choice.sandbox === false) {
    lines.push(
      'warning: --no-sandbox: QEMU runs without its seccomp filter, so a guest that breaks out of QEMU can start programs and use every system call',
    );
  }
  if (choice.runAsRoot && root) {
    lines.push(
      'warning: --run-as-root: QEMU keeps running as root, so a guest that breaks out of QEMU owns this host',
    );
  }
  return lines;
}
