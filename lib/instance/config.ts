// An instance's config (instance.json): what `create` resolved, so every later command boots the same machine.

import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ARCHES } from '../arch/table.js';
import { writeFileAtomic } from '../cidata/seed.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { WAIT_KINDS } from './wait-option.js';

const forward = z.object({
  protocol: z.enum(['tcp', 'udp']),
  hostAddress: z.string(),
  hostPort: z.int().min(0).max(65_535),
  guestPort: z.int().min(1).max(65_535),
});

const readiness = z.union([z.enum(WAIT_KINDS), z.object({ serial: z.string().min(1) })]);
export type InstanceReadiness = z.infer<typeof readiness>;

const firmware = z.union([z.enum(['bios', 'uefi']), z.object({ path: z.string() })]);

const schema = z.object({
  schema: z.literal(1),
  name: z.string(),
  created: z.string(),
  /** What it was made from, for `inspect`: a template, stored image, disk file or machine file. */
  source: z.string(),
  arch: z.enum(ARCHES),
  cpus: z.int().min(1),
  memoryMiB: z.int().min(1),
  accel: z.enum(['auto', 'kvm', 'tcg']),
  /**
   * The versioned QEMU machine type every start uses (`pc-q35-7.2`), and the QEMU that chose it; absent in configs
   * from before pinning (the first start pins them).
   */
  machineType: z.object({ name: z.string().min(1), qemuVersion: z.string().optional() }).optional(),
  /** The read-only base the overlay is backed by (a stored image's disk, or a user's file). */
  base: z.object({ path: z.string(), format: z.string() }).optional(),
  /** disk.qcow2 and seed.iso exist (a machine with a disk image). */
  disk: z.boolean(),
  seed: z.boolean(),
  kernel: z.string().optional(),
  initrd: z.string().optional(),
  append: z.string().optional(),
  firmware: firmware.optional(),
  /** Forwards given at create time; `port add` ones live only while QEMU runs. */
  ports: z.array(forward),
  /**
   * Private L2 networks, each with this instance's stable MAC on it and the address it holds there (CIDR,
   * "10.20.30.2/24"; absent in configs from before addresses).
   */
  networks: z.array(z.object({ name: z.string(), mac: z.string(), address: z.string().optional() })),
  /** Host bridges (`--network bridge:BR`) with this instance's MAC on each; DHCP gives the address. */
  bridges: z.array(z.object({ bridge: z.string(), mac: z.string() })).optional(),
  /** The MAC of the user-mode NIC, stable across boots. */
  mac: z.string(),
  sshUser: z.string().optional(),
  readiness,
  /** false: QEMU without its seccomp filter (`--no-sandbox`); absent means with it. */
  sandbox: z.boolean().optional(),
  /** true: under root, QEMU stays root (`--run-as-root`); absent means it drops to an unprivileged user. */
  runAsRoot: z.boolean().optional(),
  /**
   * Made from a warm image (`image`, stored in `dir`): until `restored`, a start loads the saved machine instead of
   * booting; after the first, starts boot the instance's disk cold.
   */
  warm: z.object({ image: z.string(), dir: z.string(), restored: z.boolean() }).optional(),
  /** Host directories (absolute) in the guest, tagged m0, m1, … in order, each on the transport its fstab names. */
  mounts: z
    .array(
      z.object({
        host: z.string(),
        guest: z.string(),
        writable: z.boolean(),
        type: z.enum(['virtiofs', '9p', 'auto']),
        transport: z.enum(['virtiofs', '9p']),
      }),
    )
    .optional(),
  /** `vnc`: a graphics device and a VNC server on `vnc.sock` in the instance directory; absent: no screen. */
  display: z.literal('vnc').optional(),
});

export type InstanceConfig = z.infer<typeof schema>;

/** Read and check instance.json; a damaged file is named with the fix. */
export async function readInstanceConfig(path: string): Promise<InstanceConfig> {
  const text = await readFile(path, 'utf8');
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
  new QlaunchError(ErrorCode.INSTANCE_CONFIG_INVALID, `instance config ${path} is damaged: ${detail}`, {
    hint: 'restore the file from a backup, or remove the instance (`qlaunch rm NAME`) and create it again',
    cause,
  });

/** Write instance.json atomically (0600) and durably: it is the one record of the instance. */
export async function writeInstanceConfig(path: string, config: InstanceConfig): Promise<void> {
  await writeFileAtomic(
    path,
    new TextEncoder().encode(`${JSON.stringify(schema.parse(config), null, 2)}\n`),
    {
      what: 'instance config',
    },
  );
}
