// Reading a seed's files the way cloud-localds takes them (paths, or - for stdin), as bytes, and checking each before
// any image is made.

import { stringify } from 'yaml';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkYamlMapping, newInstanceId } from './cloud-config.js';
import { checkHostname } from './hostname.js';
import { inputName, readInputFile, readProcessStdin, type StdinReader } from './input-file.js';
import type { NoCloudFiles } from './seed.js';
import { checkUserData, type UserDataKind } from './user-data.js';

/** User-data and vendor-data: cloud-init sets no limit, but the seed is built in memory. */
export const USER_DATA_MAX_BYTES = 64 * 1024 * 1024;
/** meta-data, network-config and key files are parsed here, and are a few lines in practice. */
const SMALL_INPUT_MAX_BYTES = 1024 * 1024;

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

/** Reads user-data (or vendor-data) as bytes and checks it as cloud-init would; returns the bytes unchanged. */
export async function loadUserData(
  path: string,
  options: { what?: string | undefined; stdin?: StdinReader | undefined } = {},
): Promise<{ data: Uint8Array; kind: UserDataKind }> {
  const what = options.what ?? 'user-data';
  const data = await readInputFile(path, { what, maxBytes: USER_DATA_MAX_BYTES, stdin: options.stdin });
  const kind = checkUserData(data, sourceName(path, what));
  return { data, kind };
}

/** Standard input can be read once: a second "-" would read nothing, so it is refused before anything is read. */
function checkOneStdin(inputs: SeedInputs): void {
  const named: [string, string | undefined][] = [
    ['user-data', inputs.userData],
    ['meta-data', inputs.metaData],
    ['--network-config', inputs.networkConfig],
    ['--vendor-data', inputs.vendorData],
    ...(inputs.sshKeys ?? []).map((key): [string, string] => ['--ssh-key', key]),
  ];
  const fromStdin = named.filter(([, path]) => path === '-' || path === '/dev/stdin').map(([what]) => what);
  if (fromStdin.length > 1) {
    throw new QlaunchError(
      ErrorCode.USAGE,
      `${fromStdin.join(' and ')} would ${fromStdin.length === 2 ? 'both' : 'all'} be read from standard input, which can be read once`,
      { hint: 'give - for one of them and files for the others' },
    );
  }
}

const utf8 = new TextDecoder();

/** An input as errors name it: its path, or "<what> from standard input". */
const sourceName = (path: string, what: string): string =>
  path === '-' || path === '/dev/stdin' ? inputName(path, what) : path;

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
  stdin: StdinReader = readProcessStdin,
): Promise<LoadedSeed> {
  if (inputs.hostname !== undefined) checkHostname(inputs.hostname);
  checkOneStdin(inputs);
  const small = (path: string, what: string) =>
    readInputFile(path, { what, maxBytes: SMALL_INPUT_MAX_BYTES, stdin });
  const userData = await loadUserData(inputs.userData, { stdin });
  const files: NoCloudFiles = { 'meta-data': '', 'user-data': userData.data };
  if (inputs.networkConfig !== undefined) {
    const networkConfig = await small(inputs.networkConfig, 'network-config');
    const source = sourceName(inputs.networkConfig, 'network-config');
    const parsed = checkYamlMapping(utf8.decode(networkConfig), source, 'network-config');
    const version =
      (parsed['network'] as Record<string, unknown> | undefined)?.['version'] ?? parsed['version'];
    if (version !== 1 && version !== 2) {
      throw new QlaunchError(ErrorCode.SEED_INVALID, `${source} has no network config version 1 or 2`, {
        hint: 'start it with "version: 2" (netplan style) or "version: 1"',
      });
    }
    files['network-config'] = networkConfig;
  }
  if (inputs.vendorData !== undefined) {
    files['vendor-data'] = (await loadUserData(inputs.vendorData, { what: 'vendor-data', stdin })).data;
  }
  const keys: string[] = [];
  for (const path of inputs.sshKeys ?? [])
    keys.push(...publicKeys(utf8.decode(await small(path, 'SSH public key')), sourceName(path, 'SSH key')));

  const given = inputs.metaData === undefined ? undefined : await small(inputs.metaData, 'meta-data');
  const metaData =
    given === undefined
      ? {}
      : checkYamlMapping(utf8.decode(given), sourceName(inputs.metaData ?? '', 'meta-data'), 'meta-data');
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
  return { files, instanceId: String(instanceId), userDataKind: userData.kind };
}
