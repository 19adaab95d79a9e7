// The I/O shell of an export: find the machine (an instance, a machine file, a template or image), make its seed
// files as `create`/`run` would, and hand both to the pure target builders.

import { readFile } from 'node:fs/promises';
import { buildMetaData } from '../cidata/cloud-config.js';
import { buildSeedImage } from '../cidata/seed.js';
import { buildVendorData } from '../cidata/vendor-data.js';
import { machineFor } from '../cloud/machine-choice.js';
import { hostnameFor, userDataFor } from '../cloud/recipe.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../errors.js';
import { findImage, openImageStore } from '../image/store.js';
import { readInstance } from '../instance/registry.js';
import { loadMachineFile, type MachineDefinition } from '../machine/file.js';
import { type ResolvedMachine, resolveMachine } from '../machine/resolve.js';
import type { ExportInput, ExportTarget, NotCarried, SeedFiles } from './input.js';
import { toKubevirt } from './kubevirt.js';
import { toNomad } from './nomad.js';
import { kubevirtYaml, nomadJson } from './serialize.js';

export interface ExportRequest {
  to: ExportTarget;
  /** An instance name, else a template, stored image or disk file (as `run IMAGE` takes). */
  name?: string | undefined;
  /** A machine file, instead of `name`. */
  machine?: string | undefined;
  arch?: string | undefined;
  imageUrl?: string | undefined;
  seedUrl?: string | undefined;
  /** A public key file for meta-data's public-keys (an instance's own key is the default). */
  sshKey?: string | undefined;
  /** Where instances live (tests); default the qlaunch home's. */
  instancesRoot?: string | undefined;
}

export interface ExportResult {
  /** The manifest: KubeVirt YAML or Nomad job JSON. */
  text: string;
  dropped: NotCarried[];
  /** Nomad: the seed image its job fetches from --seed-url, byte for byte what qlaunch would boot with. */
  seedImage?: Uint8Array | undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readPublicKey(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new QlaunchError(
      ErrorCode.SPEC_FILE_MISSING,
      `cannot read SSH public key ${path}: ${error.code ?? error.message}`,
      {
        hint: 'give the .pub file of a key pair (ssh-keygen writes it beside the private key)',
        cause: error,
      },
    );
  });
  const line = text.trim();
  // Only a public key line: a private key must never end up in a manifest.
  if (!/^(ssh-|ecdsa-|sk-)[\w@.-]+ [A-Za-z0-9+/=]+( .*)?$/.test(line) || line.includes('\n')) {
    throw new QlaunchError(ErrorCode.SPEC_INVALID, `${path} is not one SSH public key line`, {
      hint: 'give the .pub file (ssh-ed25519 AAAA… comment), never the private key',
    });
  }
  return line;
}

/** The machine a name or file names, as `run`/`create` resolve it, plus what an instance cannot hand over. */
async function findMachine(
  request: ExportRequest,
): Promise<{ machine: ResolvedMachine; publicKeyFile?: string | undefined; dropped: NotCarried[] }> {
  if (request.machine !== undefined) {
    return {
      machine: resolveMachine(await loadMachineFile(request.machine), { arch: request.arch }),
      dropped: [],
    };
  }
  const name = request.name ?? '';
  const instance = await readInstance(name, request.instancesRoot).catch((error: unknown) => {
    if (
      isQlaunchError(error, ErrorCode.INSTANCE_NOT_FOUND) ||
      isQlaunchError(error, ErrorCode.INSTANCE_NAME_INVALID)
    )
      return undefined;
    throw error;
  });
  if (!instance) {
    const def = await machineFor(name, openImageStore()).catch((error: unknown) => {
      if (!isQlaunchError(error, ErrorCode.MACHINE_UNKNOWN)) throw error;
      throw new QlaunchError(
        ErrorCode.MACHINE_UNKNOWN,
        `no instance, template or stored image is named ${name}`,
        {
          hint: `${error.hint ?? ''}; \`qlaunch ls\` lists instances`.replace(/^; /, ''),
        },
      );
    });
    return { machine: resolveMachine(def, { arch: request.arch }), dropped: [] };
  }
  const { config, paths } = instance;
  if (request.arch !== undefined && request.arch !== config.arch) {
    throw new QlaunchError(
      ErrorCode.USAGE,
      `instance ${config.name} is ${config.arch}, not ${request.arch}`,
      {
        hint: `drop --arch: an instance exports as what it is (or export its template ${config.source} with --arch)`,
      },
    );
  }
  const def: MachineDefinition = /\.(ya?ml|json)$/i.test(config.source)
    ? await loadMachineFile(config.source)
    : await machineFor(config.source, openImageStore());
  // The instance's own record wins: it is what every start of it boots.
  const resolved = resolveMachine(
    {
      ...def,
      ports: config.ports,
      firmware: config.firmware,
      images: {},
      image: def.images[config.arch] ?? def.image,
    },
    { arch: config.arch, cpus: config.cpus, memory: config.memoryMiB },
  );
  const machine: ResolvedMachine = {
    ...resolved,
    name: config.name,
    firmware: config.firmware,
    machineType: config.machineType?.name ?? resolved.machineType,
    ...(config.mounts !== undefined && {
      mounts: config.mounts.map(({ host, guest, writable, type }) => ({ host, guest, writable, type })),
    }),
  };
  const dropped: NotCarried[] = [
    {
      what: `instance ${config.name}'s disk as it is now`,
      reason: 'the target boots a fresh copy of the image; what the guest wrote since `create` stays here',
    },
    {
      what: `user-data given to \`create --user-data\``,
      reason: `an instance does not record it apart from its seed: the export re-makes user-data from ${config.source}`,
    },
    ...config.networks.map((net) => ({
      what: `private network ${net.name}`,
      reason: "it is a segment between guests on this host; the target's networking replaces it",
    })),
  ];
  return { machine, publicKeyFile: `${paths.key}.pub`, dropped };
}

/** The seed files qlaunch would write for `machine` (meta-data's instance-id fixed, so the export is the same each time). */
async function seedFor(
  machine: ResolvedMachine,
  hostname: string,
  publicKey: string | undefined,
): Promise<SeedFiles> {
  const data = await userDataFor(machine);
  let userData: string;
  try {
    userData = typeof data === 'string' ? data : utf8.decode(data);
  } catch {
    throw new QlaunchError(
      ErrorCode.EXPORT_UNSUPPORTED,
      `machine ${machine.name}'s user-data is not UTF-8 text`,
      {
        hint: 'give a text user-data (#cloud-config or a script); a compressed one cannot go in a manifest',
      },
    );
  }
  return {
    userData,
    metaData: buildMetaData({
      instanceId: `iid-${hostname}`,
      hostname,
      publicKeys: publicKey === undefined ? [] : [publicKey],
    }),
    vendorData: buildVendorData(),
    publicKey,
  };
}

/** A stored image pulled from a URL is fetched from that URL, with the digest it was verified against. */
async function withPulledUrl(machine: ResolvedMachine): Promise<ResolvedMachine> {
  const image = machine.image;
  if (image?.kind !== 'stored') return machine;
  const stored = await findImage(openImageStore(), image.name).catch(() => undefined);
  // image.json keeps URLs with credentials and query values hidden (***): those cannot be fetched again.
  if (stored?.origin !== 'pull' || !/^https?:\/\//.test(stored.source) || stored.source.includes('***'))
    return machine;
  return {
    ...machine,
    image: { kind: 'url', url: stored.source, checksum: stored.checksum, firmware: image.firmware },
  };
}

/** Export what `request` names to its target: the manifest text, what did not carry over, and Nomad's seed. */
export async function exportMachine(request: ExportRequest): Promise<ExportResult> {
  const found = await findMachine(request);
  if (request.imageUrl === undefined) found.machine = await withPulledUrl(found.machine);
  const hostname = hostnameFor(found.machine.name);
  const keyFile = request.sshKey ?? found.publicKeyFile;
  const publicKey = keyFile === undefined ? undefined : await readPublicKey(keyFile);
  const dropped = [...found.dropped];
  if (publicKey === undefined) {
    dropped.push({
      what: "qlaunch's SSH key in meta-data",
      reason: 'qlaunch makes a key pair for each guest it boots; give --ssh-key FILE.pub to let a key in',
    });
  }
  const input: ExportInput = {
    machine: found.machine,
    seed: await seedFor(found.machine, hostname, publicKey),
    hostname,
    imageUrl: request.imageUrl,
    seedUrl: request.seedUrl,
    dropped,
  };
  if (request.to === 'kubevirt') {
    const out = toKubevirt(input);
    return { text: kubevirtYaml(out.objects, out.comments), dropped: out.dropped };
  }
  const out = toNomad(input);
  const seedImage = buildSeedImage({
    files: {
      'meta-data': input.seed.metaData,
      'user-data': input.seed.userData,
      'vendor-data': input.seed.vendorData,
    },
    // A fixed date keeps the image the same bytes each export.
    date: new Date(0),
  });
  return { text: nomadJson(out.job), dropped: out.dropped, seedImage };
}
