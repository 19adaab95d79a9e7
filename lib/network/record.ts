// A private network's record (`<qlaunch home>/networks/NAME.json`): its subnet and its members' addresses and MACs.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../cidata/seed.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { qlaunchHome } from '../image/store-location.js';
import { PRIVATE_NET_NAME } from '../machine/private-net.js';
import { networksNotDirectory } from './lock.js';
import { parseSubnet } from './subnet.js';

const owner = z.object({ pid: z.number().int().positive(), startTicks: z.string().optional() });

const member = z.object({
  address: z.string(),
  mac: z.string(),
  /** The member's guest agent socket, when it has one: how the network's names reach its /etc/hosts. */
  agent: z.string().optional(),
  /** A throwaway guest's: the process that launched it. Once that is gone, so is the member. */
  owner: owner.optional(),
});

/** A host network's pieces on the host, recorded as they are made, so a later run can remove what a crash left. */
const host = z.object({
  bridge: z.string(),
  nat: z.boolean(),
  /** Each running member's tap, and the process that made it (its tap is in use while that process lives). */
  taps: z.record(z.string(), z.object({ tap: z.string(), starter: owner.optional() })),
});

const schema = z.object({
  schema: z.literal(1),
  name: z.string().regex(PRIVATE_NET_NAME),
  /** The network's IPv4 subnet, as CIDR ("10.20.30.0/24"). */
  subnet: z.string().refine((text) => {
    try {
      parseSubnet(text);
      return true;
    } catch {
      return false;
    }
  }, 'not an IPv4 CIDR'),
  created: z.string(),
  /** Each member instance's address on the network and the MAC of its NIC there, by instance name. */
  members: z.record(z.string(), member),
  /** A host network (root): a Linux bridge with the subnet's first address on the host, instead of multicast. */
  host: host.optional(),
});

export type NetworkRecord = z.infer<typeof schema>;
export type NetworkMember = z.infer<typeof member>;
export type HostNetworkRecord = z.infer<typeof host>;

/** `<qlaunch home>/networks`. */
export const networksDir = (env: NodeJS.ProcessEnv = process.env): string =>
  join(qlaunchHome(env), 'networks');

/** Refuse a network name that is not a safe file and DNS label. */
export function checkNetworkName(name: string): string {
  if (PRIVATE_NET_NAME.test(name)) return name;
  throw new QlaunchError(
    ErrorCode.NETWORK_NAME_INVALID,
    `network name ${JSON.stringify(name)} is not allowed`,
    {
      hint: 'use 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit (e.g. lab)',
    },
  );
}

/** The record file of network `name` (checked) in `dir`. */
export const networkPath = (dir: string, name: string): string => join(dir, `${checkNetworkName(name)}.json`);

/** Read and check a network record; undefined when there is none, an error naming the fix when it is damaged. */
export async function readNetworkRecord(path: string): Promise<NetworkRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw networksNotDirectory(dirname(path));
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw damaged(path, (error as Error).message, error);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(path, `${issue?.path.join('.') || 'the file'}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}

const damaged = (path: string, detail: string, cause?: unknown) =>
  new QlaunchError(ErrorCode.NETWORK_INVALID, `network record ${path} is damaged: ${detail}`, {
    hint: 'restore the file from a backup, or remove it and let the network be made again when an instance joins it',
    cause,
  });

/** Write a network record atomically (0600) and durably: it is the one record of who holds which address. */
export async function writeNetworkRecord(path: string, record: NetworkRecord): Promise<void> {
  const text = `${JSON.stringify(schema.parse(record), null, 2)}\n`;
  await writeFileAtomic(path, new TextEncoder().encode(text), { what: 'network record' });
}
