// `qlaunch network`: private networks — create (with a subnet, or one chosen), ls, inspect, rm. Thin: parse, call
// lib/network, print.

import type { Argv, CommandModule } from 'yargs';
import { printJson, reportError } from '../output.js';
import { formatNetworkDetails, formatNetworkTable } from './network-format.js';

type SetExit = (code: number) => void;

/** Warn about each network whose subnet a host route now overlaps: chosen clear of them, the host changed since. */
async function warnRouteConflicts(
  networks: readonly { name: string; subnet: string; host?: object | undefined }[],
): Promise<void> {
  const { hostRoutes } = await import('../../network/host-routes.js');
  const { formatSubnet, routeConflict } = await import('../../network/subnet.js');
  const routes = await hostRoutes();
  for (const { name, subnet, host } of networks) {
    // A host network's bridge routes its own subnet: that route is the network, not a conflict.
    const route = routeConflict(subnet, host ? routes.filter((r) => formatSubnet(r) !== subnet) : routes);
    if (route === undefined) continue;
    process.stderr.write(
      `qlaunch: warning: network ${name} (${subnet}) overlaps the host's route to ${formatSubnet(route)} added since; its members cannot reach that range through the user network (make another network with \`qlaunch network create NET --subnet CIDR\`)\n`,
    );
  }
}

/** As root: remove the taps of host networks' members that died without removing them (a crash's leftovers). */
async function sweepHostNetworks(
  networks: readonly { name: string; host?: object | undefined }[],
): Promise<void> {
  if (process.getuid?.() !== 0 || !networks.some((n) => n.host)) return;
  const { sweepHostNetwork } = await import('../../network/host-members.js');
  const { networksDir } = await import('../../network/record.js');
  for (const { name, host } of networks) {
    if (host) await sweepHostNetwork(name, { dir: networksDir() });
  }
}

/** Catches a handler's error into an exit code, as every command does. */
const guarded =
  <A>(setExit: SetExit, run: (args: A) => Promise<void>) =>
  async (args: A): Promise<void> => {
    try {
      await run(args);
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  };

interface CreateArgs {
  name: string;
  subnet?: string | undefined;
  host?: boolean | undefined;
  nat?: boolean | undefined;
  json?: boolean | undefined;
}

export const networkCreateCommand = (setExit: SetExit): CommandModule<object, CreateArgs> => ({
  command: 'create <name>',
  describe: 'make a private network, with a subnet given or chosen (instances joining it make it too)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('subnet', {
        type: 'string',
        describe: 'its IPv4 subnet, private, a /29 or larger, overlapping no host route or other network',
      })
      .option('host', {
        type: 'boolean',
        describe: 'a Linux bridge with the first address on the host, members on taps (root)',
      })
      .option('nat', {
        type: 'boolean',
        describe: 'with --host: masquerade the members to the outside (nftables)',
      })
      .option('json', { type: 'boolean', describe: 'print the network as JSON' })
      .example('$0 network create lab', 'a /24 in 10.0.0.0/8, chosen from the name, clear of the host routes')
      .example(
        'sudo $0 network create lan --host --nat',
        'the host reaches its members, they reach the outside',
      )
      .example('$0 network create lab --subnet 192.168.50.0/24', 'a subnet of your choice'),
  handler: guarded(setExit, async (args) => {
    const { createNetwork } = await import('../../network/store.js');
    const record = await createNetwork(args.name, { subnet: args.subnet, host: args.host, nat: args.nat });
    if (args.json) printJson(record);
    else {
      const bridge = record.host
        ? ` on bridge ${record.host.bridge}${record.host.nat ? ', with NAT' : ''}`
        : '';
      process.stdout.write(`created network ${record.name}: ${record.subnet}${bridge}\n`);
    }
  }),
});

const lsCommand = (setExit: SetExit): CommandModule<object, { json?: boolean | undefined }> => ({
  command: 'ls',
  aliases: ['list'],
  describe: 'list the private networks: subnet and members',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'print the networks as JSON' })
      .example('$0 network ls', 'name, subnet and members of each'),
  handler: guarded(setExit, async (args) => {
    const { listNetworks } = await import('../../network/store.js');
    await sweepHostNetworks((await listNetworks()).networks);
    const { networks, broken } = await listNetworks();
    await warnRouteConflicts(networks);
    for (const { name, problem } of broken) {
      process.stderr.write(`qlaunch: warning: network '${name}' is damaged (${problem})\n`);
    }
    const listed = [...networks, ...broken.map(({ name, problem }) => ({ name, error: problem }))].sort(
      (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    if (args.json) printJson(listed);
    else process.stdout.write(formatNetworkTable(listed));
  }),
});

interface NameArgs {
  name: string;
  json?: boolean | undefined;
}

const inspectCommand = (setExit: SetExit): CommandModule<object, NameArgs> => ({
  command: 'inspect <name>',
  describe: "show a private network: its subnet, and each member's address and MAC",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean', describe: 'print it as JSON' })
      .example('$0 network inspect lab', 'subnet, members, their addresses and MACs'),
  handler: guarded(setExit, async (args) => {
    const { getNetwork } = await import('../../network/store.js');
    const { networkPath, networksDir } = await import('../../network/record.js');
    await sweepHostNetworks([await getNetwork(args.name)]);
    const record = await getNetwork(args.name);
    await warnRouteConflicts([record]);
    // A member with no instance behind it (its directory removed by hand) holds its address until `rm` frees it.
    const { instanceNames } = await import('../../instance/registry.js');
    const known = new Set(await instanceNames().catch(() => Object.keys(record.members)));
    for (const [member, { address, owner }] of Object.entries(record.members)) {
      // A throwaway guest is a member while the process that launched it lives.
      if (known.has(member) || owner) continue;
      process.stderr.write(
        `qlaunch: warning: network ${record.name} holds ${address} for ${member}, which is no instance; \`qlaunch rm ${member}\` frees it\n`,
      );
    }
    if (args.json) printJson(record);
    else process.stdout.write(formatNetworkDetails(record, networkPath(networksDir(), record.name)));
  }),
});

const rmCommand = (setExit: SetExit): CommandModule<object, { name: string }> => ({
  command: 'rm <name>',
  aliases: ['remove'],
  describe: 'remove a private network that has no members',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .example('$0 network rm lab', 'refused while instances are on it: `qlaunch rm` them first'),
  handler: guarded(setExit, async (args) => {
    const { removeNetwork } = await import('../../network/store.js');
    const removed = await removeNetwork(args.name);
    process.stdout.write(`removed network ${removed.name} (${removed.subnet})\n`);
  }),
});

export const networkCommand = (setExit: SetExit): CommandModule => ({
  command: 'network <command>',
  describe: 'manage private networks: create, ls, inspect, rm',
  builder: (y: Argv) =>
    y
      .command(networkCreateCommand(setExit))
      .command(lsCommand(setExit))
      .command(inspectCommand(setExit))
      .command(rmCommand(setExit))
      .example('$0 network create lab', 'a network with a subnet chosen for it')
      .example('$0 create pa --image debian-12 --network private:lab', 'an instance on it')
      .example('$0 network inspect lab', "each member's address and MAC")
      .demandCommand(1, 'say which network command to run; `qlaunch network --help` lists them'),
  handler: () => {},
});
