// The text files of a NoCloud seed: meta-data, a generated #cloud-config, network-config, and the YAML check of a user's.

import { randomUUID } from 'node:crypto';
import { isMap, parseDocument, stringify } from 'yaml';
import { ErrorCode, QlaunchError } from '../errors.js';

export interface WriteFile {
  path: string;
  content: string;
  permissions?: string | undefined;
  owner?: string | undefined;
}

/** What `qlaunch seed` and `launch()` can put in a generated #cloud-config. */
export interface CloudConfigOptions {
  /** The default user's name; omitted keeps the image's default user (e.g. "debian"). */
  user?: string | undefined;
  sshAuthorizedKeys?: readonly string[] | undefined;
  /** Plain-text password for the default user; enables password SSH login only when set. */
  password?: string | undefined;
  hostname?: string | undefined;
  writeFiles?: readonly WriteFile[] | undefined;
  runcmd?: readonly (string | readonly string[])[] | undefined;
  bootcmd?: readonly (string | readonly string[])[] | undefined;
  packages?: readonly string[] | undefined;
  sshGenkeytypes?: readonly string[] | undefined;
}

export interface MetaDataOptions {
  /** New for every new instance: a changed id makes cloud-init run its per-instance modules again. */
  instanceId?: string | undefined;
  hostname?: string | undefined;
  /** Keys cloud-init installs for the default user whatever the user-data says. */
  publicKeys?: readonly string[] | undefined;
}

const YAML_OPTIONS = { lineWidth: 0 } as const;

/** A fresh instance id, `iid-` + a UUID, as cloud-localds users conventionally write it. */
export const newInstanceId = (): string => `iid-${randomUUID()}`;

export function buildMetaData(options: MetaDataOptions = {}): string {
  const data: Record<string, unknown> = { 'instance-id': options.instanceId ?? newInstanceId() };
  if (options.hostname) data['local-hostname'] = options.hostname;
  if (options.publicKeys?.length) data['public-keys'] = [...options.publicKeys];
  return stringify(data, YAML_OPTIONS);
}

/** Build a `#cloud-config` from options, through the YAML library (never by string concatenation). */
export function buildCloudConfig(options: CloudConfigOptions): string {
  const config: Record<string, unknown> = {};
  if (options.hostname) {
    config['hostname'] = options.hostname;
    config['preserve_hostname'] = false;
  }
  if (options.user) {
    const user: Record<string, unknown> = {
      name: options.user,
      sudo: 'ALL=(ALL) NOPASSWD:ALL',
      groups: ['sudo'],
      shell: '/bin/bash',
      lock_passwd: options.password === undefined,
    };
    if (options.password !== undefined) user['plain_text_passwd'] = options.password;
    if (options.sshAuthorizedKeys?.length) user['ssh_authorized_keys'] = [...options.sshAuthorizedKeys];
    config['users'] = [user];
  } else {
    if (options.sshAuthorizedKeys?.length) config['ssh_authorized_keys'] = [...options.sshAuthorizedKeys];
    if (options.password !== undefined)
      config['chpasswd'] = {
        expire: false,
        users: [{ name: 'default', password: options.password, type: 'text' }],
      };
  }
  if (options.password !== undefined) config['ssh_pwauth'] = true;
  if (options.sshGenkeytypes?.length) config['ssh_genkeytypes'] = [...options.sshGenkeytypes];
  if (options.packages?.length) config['packages'] = [...options.packages];
  if (options.writeFiles?.length) {
    config['write_files'] = options.writeFiles.map((f) => ({
      path: f.path,
      content: f.content,
      ...(f.permissions && { permissions: f.permissions }),
      ...(f.owner && { owner: f.owner }),
    }));
  }
  if (options.bootcmd?.length)
    config['bootcmd'] = options.bootcmd.map((c) => (typeof c === 'string' ? c : [...c]));
  if (options.runcmd?.length)
    config['runcmd'] = options.runcmd.map((c) => (typeof c === 'string' ? c : [...c]));
  return `#cloud-config\n${stringify(config, YAML_OPTIONS)}`;
}

/** A NIC on a private network: its MAC, and the static address and prefix length it holds there. */
export interface PrivateLink {
  mac: string;
  address: string;
  prefix: number;
}

/**
 * A network-config v2: DHCP on the NIC with MAC `mac`, and each private link's static address on the NIC with its
 * MAC (names differ per image, MACs do not). Private links get no gateway and no DNS: the first NIC keeps the
 * default route and the resolver.
 */
export function buildNetworkConfig(
  mac: string,
  privateLinks: readonly PrivateLink[] = [],
  bridgeMacs: readonly string[] = [],
): string {
  const ethernets: Record<string, unknown> = {
    primary: { match: { macaddress: mac.toLowerCase() }, dhcp4: true },
  };
  // Short keys: an image whose renderer cannot find the NIC by MAC names it after the key (15 bytes at most).
  for (const [index, link] of privateLinks.entries()) {
    ethernets[`private${index}`] = {
      match: { macaddress: link.mac.toLowerCase() },
      dhcp4: false,
      dhcp6: false,
      addresses: [`${link.address}/${link.prefix}`],
      // Up on every boot, but never waited for: the boot's network-online means the first NIC's route.
      optional: true,
    };
  }
  // A NIC on a host bridge (a LAN) takes its address from the LAN's DHCP; its routes rank below the first NIC's.
  for (const [index, bridgeMac] of bridgeMacs.entries()) {
    ethernets[`bridge${index}`] = {
      match: { macaddress: bridgeMac.toLowerCase() },
      dhcp4: true,
      'dhcp4-overrides': { 'route-metric': 200 },
      optional: true,
    };
  }
  return stringify({ version: 2, ethernets }, YAML_OPTIONS);
}

/** Parse YAML and require a mapping at the top, naming the line of the first problem. */
export function checkYamlMapping(text: string, source: string, what: string): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const where = error.linePos?.[0]
      ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
      : '';
    throw new QlaunchError(
      ErrorCode.SEED_INVALID,
      `${source} is not valid YAML${where}: ${error.message.split('\n')[0]}`,
      {
        hint: `fix the YAML of the ${what}`,
      },
    );
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new QlaunchError(ErrorCode.SEED_INVALID, `${source} is YAML but not a mapping of keys`, {
      hint: `a ${what} is a set of key: value lines`,
    });
  }
  try {
    // The machine-file parser's limit: a few aliases are fine, a billion laughs is not.
    return (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Record<string, unknown>;
  } catch (error) {
    // yaml checks aliases only while building the value; its messages quote the alias, so say it in our words.
    const excessive = /alias count/i.test((error as Error).message);
    throw new QlaunchError(
      ErrorCode.SEED_INVALID,
      excessive
        ? `${source} has too many YAML aliases (*name): expanded, they would take far more memory than the file`
        : `${source} has a YAML alias (*name) whose anchor (&name) is not set before it`,
      {
        hint: excessive
          ? `write the ${what} out without nested aliases`
          : `set each &anchor before the *alias that uses it`,
        cause: error,
      },
    );
  }
}
