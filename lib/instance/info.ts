// What `ls` and `inspect` show of an instance: its config, its state from evidence, and, while it runs, the
// forwards QEMU has and how to reach it over SSH — with one QMP session.

import { stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { PortForward } from '../machine/spec.js';
import { listForwards } from './ports.js';
import { readRuntime } from './runtime.js';
import { type InstanceContext, openSession } from './session.js';
import type { InstanceStatus } from './state.js';
import { sshTargetOf } from './wait.js';

export interface InstanceInfo {
  name: string;
  state: InstanceStatus['state'];
  detail: string;
  pid?: number | undefined;
  arch: string;
  cpus: number;
  memoryMiB: number;
  /** The versioned QEMU machine type it starts with; undefined until its first start pins it (older configs). */
  machineType?: string | undefined;
  source: string;
  /** Made from a warm image: whether its first start (the restore) has happened. */
  warm?: { image: string; restored: boolean } | undefined;
  created: string;
  /** Forwards QEMU has now when running (from QEMU itself), else the ones it starts with. */
  ports: PortForward[];
  networks: string[];
  ssh?: { host: string; port: number; user: string; key: string } | undefined;
  /** When QEMU was started (ISO 8601), while it runs: uptime is now minus this. */
  startedAt?: string | undefined;
  /** Bytes its disk overlay takes on the host (allocated, not its virtual size); undefined without a disk. */
  diskBytes?: number | undefined;
  /** Its address on each private network (CIDR), by network. */
  addresses: { network: string; address: string }[];
  dir: string;
}

export async function instanceInfo(instance: InstanceContext, log: Logger): Promise<InstanceInfo> {
  const { config, paths } = instance;
  const { status, guest } = await openSession(instance, log);
  const live = status.state === 'running' || status.state === 'paused';
  let ports = config.ports;
  try {
    if (guest && live) ports = await listForwards(guest.qmp).catch(() => config.ports);
  } finally {
    guest?.detach();
  }
  const runtime = live ? await readRuntime(paths.runtime) : undefined;
  const target = sshTargetOf(config, paths, runtime);
  return {
    name: instance.name,
    state: status.state,
    detail: status.detail,
    pid: status.pid,
    arch: config.arch,
    cpus: config.cpus,
    memoryMiB: config.memoryMiB,
    machineType: config.machineType?.name,
    source: config.source,
    warm: config.warm && { image: config.warm.image, restored: config.warm.restored },
    created: config.created,
    ports,
    networks: config.networks.map((n) => n.name),
    ssh: target && { host: target.host, port: target.port, user: target.user, key: target.privateKey },
    startedAt: runtime?.startedAt,
    diskBytes: config.disk
      ? await stat(paths.overlay).then(
          (st) => st.blocks * 512,
          () => undefined,
        )
      : undefined,
    addresses: config.networks.flatMap(({ name, address }) => (address ? [{ network: name, address }] : [])),
    dir: paths.dir,
  };
}
