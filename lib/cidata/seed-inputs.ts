// Reading a seed's files the way cloud-localds takes them (paths, or - for stdin) and checking each before any image is made.

import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkUserData, checkYamlMapping, newInstanceId, type UserDataKind } from './cloud-config.js';
import type { NoCloudFiles } from './seed.js';

export interface SeedInputs {
  /** Path of the user-data, or "-" for stdin. */
  userData: string;
  metaData?: string | undefined;
  networkConfig?: string | undefined;
  vendorData?: string | undefined;
  hostname?: string | undefined;
  instanceId?: string | undefined;
  /** Public key files (e.g. ~/.ssh/id_ed25519.pub): every key line goes to meta-data `public-keys`. */
  sshKeys?: readonly string[] | undefined;
}

export interface LoadedSeed {
  files: NoCloudFiles;
  instanceId: string;
  userDataKind: UserDataKind;
}

async function readInput(path: string, what: string, stdin: () => Promise<string>): Promise<string> {
  if (path === '-' || path === '/dev/stdin') return stdin();
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code})`;
    throw new QlaunchError(ErrorCode.SEED_INVALID, `${what} file ${path} ${problem}`, {
      hint: `give the path of an existing ${what} file`,
      cause: error,
    });
  }
}

const readStdin = async (): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const SSH_KEY_LINE = /^(ssh-|ecdsa-|sk-)[a-z0-9@.-]+ [A-Za-z0-9+/=]+/;

function publicKeys(text: string, path: string): string[] {
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const bad = keys.find((key) => !SSH_KEY_LINE.test(key));
  if (bad !== undefined || keys.length === 0) {
    throw new QlaunchError(ErrorCode.SEED_INVALID, `${path} does not hold SSH public keys`, {
      hint: bad?.includes('PRIVATE KEY')
        ? 'give the .pub file, never the private key'
        : 'give a .pub file (ssh-ed25519 AAAA…)',
    });
  }
  return keys;
}

/**
 * Read and check every input; meta-data is generated when not given, and amended only when a flag asks
 * (a user's user-data, vendor-data and network-config pass through byte for byte).
 */
export async function loadSeedInputs(
  inputs: SeedInputs,
  stdin: () => Promise<string> = readStdin,
): Promise<LoadedSeed> {
  const userData = await readInput(inputs.userData, 'user-data', stdin);
  const userDataKind = checkUserData(
    userData,
    inputs.userData === '-' ? 'user-data from stdin' : inputs.userData,
  );
  const files: NoCloudFiles = { 'meta-data': '', 'user-data': userData };
  if (inputs.networkConfig !== undefined) {
    const networkConfig = await readInput(inputs.networkConfig, 'network-config', stdin);
    const parsed = checkYamlMapping(networkConfig, inputs.networkConfig, 'network-config');
    const version =
      (parsed['network'] as Record<string, unknown> | undefined)?.['version'] ?? parsed['version'];
    if (version !== 1 && version !== 2) {
      throw new QlaunchError(
        ErrorCode.SEED_INVALID,
        `${inputs.networkConfig} has no network config version 1 or 2`,
        {
          hint: 'start it with "version: 2" (netplan style) or "version: 1"',
        },
      );
    }
    files['network-config'] = networkConfig;
  }
  if (inputs.vendorData !== undefined) {
    const vendorData = await readInput(inputs.vendorData, 'vendor-data', stdin);
    checkUserData(vendorData, inputs.vendorData);
    files['vendor-data'] = vendorData;
  }
  const keys: string[] = [];
  for (const path of inputs.sshKeys ?? [])
    keys.push(...publicKeys(await readInput(path, 'SSH public key', stdin), path));

  const given =
    inputs.metaData === undefined ? undefined : await readInput(inputs.metaData, 'meta-data', stdin);
  const metaData = given === undefined ? {} : checkYamlMapping(given, inputs.metaData ?? '', 'meta-data');
  const amend = inputs.instanceId !== undefined || inputs.hostname !== undefined || keys.length > 0;
  const instanceId = inputs.instanceId ?? (metaData['instance-id'] as string | undefined) ?? newInstanceId();
  if (given !== undefined && !amend) {
    files['meta-data'] = given;
  } else {
    metaData['instance-id'] = instanceId;
    if (inputs.hostname !== undefined) metaData['local-hostname'] = inputs.hostname;
    if (keys.length) {
      const existing = metaData['public-keys'];
      metaData['public-keys'] = [
        ...(Array.isArray(existing) ? existing : existing ? [existing] : []),
        ...keys,
      ];
    }
    files['meta-data'] = stringify(metaData, { lineWidth: 0 });
  }
  return { files, instanceId: String(instanceId), userDataKind };
}
