// The thin shell under host networks: what links and nftables tables the host has, and running a plan's commands
// (argv arrays, no shell); a failure names the command and what it said.

import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { HostState, HostStep } from './host-plan.js';

/** Refuse what needs root (a bridge, taps, nftables) to a user who is not root; `uid` is injectable for tests. */
export function requireRoot(what: string, uid: number | undefined = process.getuid?.()): void {
  if (uid === 0) return;
  throw new QlaunchError(
    ErrorCode.NETWORK_NEEDS_ROOT,
    `${what} needs root (it makes a bridge and taps on the host)`,
    {
      hint: 'run qlaunch as root (sudo), or use a private network (`qlaunch network create NET` without --host), or a bridge qemu-bridge-helper may use (--network bridge:BR)',
    },
  );
}

/** The host's interface names and nftables tables ("family name") now; no nft means no tables. */
export async function readHostState(): Promise<HostState> {
  const links = await execa('ip', ['-j', 'link', 'show']);
  const names = (JSON.parse(links.stdout || '[]') as { ifname: string }[]).map((link) => link.ifname);
  const nft = await execa('nft', ['-j', 'list', 'tables'], { reject: false }).catch(() => undefined);
  const listed = nft?.exitCode === 0 ? (JSON.parse(nft.stdout || '{}') as { nftables?: unknown[] }) : {};
  const tables = (listed.nftables ?? []).flatMap((entry) => {
    const table = (entry as { table?: { family: string; name: string } }).table;
    return table ? [`${table.family} ${table.name}`] : [];
  });
  return { links: new Set(names), tables: new Set(tables) };
}

/** Run each command in turn; the first to fail stops the rest. */
export async function runHostSteps(steps: readonly HostStep[], what: string): Promise<void> {
  for (const [file, ...args] of steps) {
    if (file === undefined) continue;
    const result = await execa(file, args, { reject: false }).catch((error: Error) => ({
      exitCode: undefined,
      stderr: error.message,
    }));
    if (result.exitCode === 0) continue;
    const said = String(result.stderr).trim().split('\n')[0] ?? '';
    throw new QlaunchError(
      ErrorCode.NETWORK_HOST_FAILED,
      `${what}: \`${[file, ...args].join(' ')}\` failed${said ? `: ${said}` : ''}`,
      {
        hint:
          file === 'nft'
            ? 'install nftables (apt-get install nftables) and check that the kernel has nf_tables'
            : 'check that iproute2 is installed and the kernel has bridge and tun support (modprobe bridge tun)',
      },
    );
  }
}

/** Whether a QEMU holds tap `tap` open (a tap's carrier is on while a process has it attached). */
export async function tapHeld(tap: string): Promise<boolean> {
  const carrier = await readFile(`/sys/class/net/${tap}/carrier`, 'utf8').catch(() => '0');
  return carrier.trim() === '1';
}
