// Names on private networks without a daemon: when a member has started, every running member of its networks (it
// included) gets /etc/hosts lines for all members, written through its guest agent, so a member started later is
// resolvable from the others at once, without a reboot. A stopped member gets its lines on its own next start.

import type { Logger } from '../logger.js';
import { hostsLines, withHostsBlock } from '../network/hosts.js';
import { listNetworks } from '../network/store.js';
import { readInstanceConfig } from './config.js';
import { instancePaths, networksDirFor } from './layout.js';
import { instanceStatus } from './state.js';

/** How long one member's agent may take to answer; a member still booting gets its lines on its own start. */
const AGENT_TIMEOUT_MS = 10_000;

// Fixed text, no input in it: the new file arrives on stdin and replaces the old one whole, never half-written.
const WRITE_HOSTS =
  'cat > /etc/.hosts.qlaunch && chmod 644 /etc/.hosts.qlaunch && mv /etc/.hosts.qlaunch /etc/hosts';

/**
 * Write the network names into each running member of `name`'s networks under `root`. Best effort: a member whose
 * agent does not answer is logged and left; the start that called this has succeeded either way.
 */
export async function publishNetworkNames(name: string, root: string, log: Logger): Promise<void> {
  const { networks } = await listNetworks({ dir: networksDirFor(root) });
  const mine = networks.filter((network) => network.members[name]);
  const members = [...new Set(mine.flatMap((network) => Object.keys(network.members)))].sort();
  for (const member of members) {
    try {
      const written = await writeHosts(member, root, hostsLines(member, networks));
      if (written) log.info({ member }, 'network names written');
    } catch (error) {
      log.warn({ member, err: (error as Error).message }, 'could not write network names into a member');
    }
  }
}

/** Rewrite qlaunch's block in `member`'s /etc/hosts; false when it is not a running guest with an agent to ask. */
async function writeHosts(member: string, root: string, lines: string[]): Promise<boolean> {
  const paths = instancePaths(member, root);
  const config = await readInstanceConfig(paths.config).catch(() => undefined);
  // Kernel-only machines have no cloud image (and no agent); their addresses are theirs to set.
  if (!config?.disk) return false;
  if ((await instanceStatus(paths)).state !== 'running') return false;
  const { GuestAgent } = await import('../qga/index.js');
  const agent = await GuestAgent.connect(paths.guestAgent, { timeout: AGENT_TIMEOUT_MS });
  try {
    const options = { timeout: AGENT_TIMEOUT_MS };
    const read = await agent.exec(['cat', '/etc/hosts'], options);
    const current = read.exitCode === 0 ? read.stdout.toString() : '';
    const next = withHostsBlock(current, lines);
    if (next === current) return true;
    const wrote = await agent.exec(['sh', '-c', WRITE_HOSTS], { ...options, input: next });
    if (wrote.exitCode !== 0) throw new Error(`writing /etc/hosts: ${wrote.stderr.toString().trim()}`);
    return true;
  } finally {
    await agent.close();
  }
}
