// Names on private networks without a daemon: when a member is ready, every member of its networks that has a guest
// agent answering (it included) gets /etc/hosts lines for all members, written through that agent, so a member
// started later is resolvable from the others at once, without a reboot. A stopped member gets its lines on its
// own next start.

import { type Logger, silentLogger } from '../logger.js';
import { hostsLines, withHostsBlock } from './hosts.js';
import { listNetworks, type NetworkStoreOptions } from './store.js';

/** How long one member's agent may take to answer; a member still booting gets its lines when it is ready. */
const AGENT_TIMEOUT_MS = 10_000;

// Fixed text, no input in it: the new file arrives on stdin and replaces the old one whole, never half-written.
const WRITE_HOSTS =
  'cat > /etc/.hosts.qlaunch && chmod 644 /etc/.hosts.qlaunch && mv /etc/.hosts.qlaunch /etc/hosts';

/**
 * Write the network names into each member of `member`'s networks whose agent answers. Best effort: a member that
 * is stopped or does not answer is logged and left; whoever called this has succeeded either way.
 */
export async function publishNames(
  member: string,
  options: NetworkStoreOptions & { logger?: Logger | undefined } = {},
): Promise<void> {
  const log = options.logger ?? silentLogger;
  const { networks } = await listNetworks(options);
  const agents = new Map<string, string>();
  for (const network of networks.filter((n) => n.members[member])) {
    for (const [name, held] of Object.entries(network.members)) {
      if (held.agent !== undefined) agents.set(name, held.agent);
    }
  }
  for (const [name, agent] of [...agents].sort(([a], [b]) => (a < b ? -1 : 1))) {
    try {
      await writeHosts(agent, hostsLines(name, networks));
      log.info({ member: name }, 'network names written');
    } catch (error) {
      log.info({ member: name, err: (error as Error).message }, 'network names not written (not running?)');
    }
  }
}

/** Rewrite qlaunch's block in the /etc/hosts of the guest whose agent listens on `socket`. */
async function writeHosts(socket: string, lines: string[]): Promise<void> {
  const { GuestAgent } = await import('../qga/index.js');
  const agent = await GuestAgent.connect(socket, { timeout: AGENT_TIMEOUT_MS });
  try {
    const options = { timeout: AGENT_TIMEOUT_MS };
    const read = await agent.exec(['cat', '/etc/hosts'], options);
    const current = read.exitCode === 0 ? read.stdout.toString() : '';
    const next = withHostsBlock(current, lines);
    if (next === current) return;
    const wrote = await agent.exec(['sh', '-c', WRITE_HOSTS], { ...options, input: next });
    if (wrote.exitCode !== 0) throw new Error(`writing /etc/hosts: ${wrote.stderr.toString().trim()}`);
  } finally {
    await agent.close();
  }
}
