// An instance made from a warm image: its disk an overlay on the warm layer, its first start a restore of the saved
// machine. Once restored it is marked so: every later start boots its own disk cold, as any instance does.

import { closeSync, constants, openSync } from 'node:fs';
import { chmod, copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, QlaunchError } from '../errors.js';
import { WARM_FILES } from '../guest/warm/files.js';
import { type WarmRecord, warmLayerPath } from '../guest/warm/record.js';
import { createOverlay } from '../image/qemu-img.js';
import type { PortForward, VmSpec } from '../machine/spec.js';
import type { ArgvPlan } from '../qemu/argv.js';
import type { QmpClient } from '../qmp/index.js';
import type { InstanceConfig } from './config.js';
import type { InstancePaths } from './layout.js';

const QEMU_FIRST_MAC = '52:54:00:12:34:56';

/**
 * Lays down a warm instance's own files in its (new, locked) directory — an overlay on the warm layer, a copy of the
 * seed the saved guest booted with, the client key it accepts — and returns its config.
 */
export async function createWarmFiles(
  input: { name: string; image: string; ports: PortForward[] },
  warm: { dir: string; record: WarmRecord },
  paths: InstancePaths,
): Promise<InstanceConfig> {
  const { dir, record } = warm;
  const layer = warmLayerPath(record, dir);
  await createOverlay(layer, 'qcow2', paths.overlay, { ownLayer: true });
  // The seed is one of the saved devices: the instance keeps its own copy, read again on every cold start.
  await copyPrivate(join(dir, WARM_FILES.seed), paths.seed);
  await copyPrivate(join(dir, record.ssh.key), paths.key);
  const { spec } = record;
  return {
    schema: 1,
    name: input.name,
    created: new Date().toISOString(),
    source: input.image,
    arch: record.arch,
    cpus: record.cpus,
    memoryMiB: record.memoryMiB,
    accel: record.accel,
    machineType: { name: record.machineType, qemuVersion: record.qemu.version },
    base: { path: layer, format: 'qcow2' },
    disk: true,
    seed: true,
    ...(spec.kernel !== undefined && { kernel: spec.kernel }),
    ...(spec.initrd !== undefined && { initrd: spec.initrd }),
    ...(spec.append !== undefined && { append: spec.append }),
    ...(spec.firmware !== undefined && {
      firmware: typeof spec.firmware === 'string' ? spec.firmware : { path: spec.firmware.path },
    }),
    ports: input.ports,
    networks: [],
    // The NIC's MAC is part of the saved device state: the instance keeps it on cold starts too (a throwaway guest
    // gets QEMU's default for its first NIC).
    mac: spec.network.mac ?? QEMU_FIRST_MAC,
    sshUser: record.ssh.user,
    readiness: 'cloud-init',
    warm: { image: input.image, dir, restored: false },
  };
}

async function copyPrivate(from: string, to: string): Promise<void> {
  await copyFile(from, to, constants.COPYFILE_EXCL);
  await chmod(to, 0o600);
}

/** What a start from a warm image adds: the saved machine's spec, the RAM file, the state's fd and its loading. */
export interface WarmStart {
  spec: VmSpec;
  argv: Pick<ArgvPlan, 'memoryFile' | 'vmgenid' | 'incoming'>;
  /** Refuses a command line whose devices are not the saved ones. */
  check: (plan: ArgvPlan) => void;
  /** Opens the state file for QEMU to inherit; `close` is safe to call twice, or before it is opened. */
  open: () => number;
  close: () => void;
  load: (qmp: QmpClient) => Promise<void>;
}

/** The warm image an instance stands on, read and checked: a start refuses one that is gone or was replaced. */
export async function readWarmSource(config: InstanceConfig) {
  const warm = config.warm;
  if (!warm) throw new Error(`instance ${config.name} has no warm image`);
  const { readWarmRecord, checkWarmHost, cloneSpec, restoreArgv, checkWarmDevices, confirmClone, STATE_FD } =
    await import('../guest/warm/restore.js');
  const { loadDeviceState } = await import('../guest/warm/migrate.js');
  const notStarted = (what: string, cause?: unknown) =>
    new QlaunchError(
      ErrorCode.WARM_INVALID,
      `instance ${config.name} was not started: its warm image ${warm.image} (${warm.dir}) ${what}`,
      {
        hint: `put the warm image back, or remove the instance (qlaunch rm ${config.name})`,
        cause,
      },
    );
  const record = await readWarmRecord(warm.dir).catch((error: unknown) => {
    throw notStarted(`cannot be read: ${(error as Error).message}`, error);
  });
  const layer = warmLayerPath(record, warm.dir);
  if (layer !== config.base?.path || !(await stat(layer).catch(() => undefined))?.isFile()) {
    throw notStarted("no longer holds the layer the instance's disk stands on");
  }
  return {
    checkHost: (binary: string | undefined) => checkWarmHost(record, warm.dir, { binary }),
    start: (current: InstanceConfig, paths: InstancePaths): WarmStart => {
      const saved = cloneSpec(record, warm.dir, paths.overlay, paths.seed);
      let fd: number | undefined;
      return {
        // Its own name, forwards and reboot policy: none of them is part of the saved devices.
        spec: {
          ...saved,
          name: current.name,
          noReboot: false,
          network: { ...saved.network, forwards: current.ports },
        },
        argv: restoreArgv(record, warm.dir),
        check: (plan) =>
          checkWarmDevices(
            { ...plan, spec: { ...plan.spec, name: record.spec.name, noReboot: record.spec.noReboot } },
            record,
            warm.dir,
          ),
        open: () => {
          fd ??= openSync(join(warm.dir, WARM_FILES.state), 'r');
          return fd;
        },
        close: () => {
          if (fd !== undefined) closeSync(fd);
          fd = undefined;
        },
        load: (qmp) => loadDeviceState(qmp, STATE_FD),
      };
    },
    /** Its clock stepped and sshd greeting: a guest left running when it does not answer. */
    confirm: async (paths: InstancePaths, sshPort: number | undefined) => {
      try {
        await confirmClone(
          { agentSocket: paths.guestAgent, sshHost: '127.0.0.1', sshPort: sshPort ?? 0 },
          undefined,
        );
      } catch (error) {
        throw new QlaunchError(
          ErrorCode.WARM_RESTORE_FAILED,
          `instance ${config.name} was restored from ${warm.image} but did not answer: ${(error as Error).message}`,
          {
            hint: `it is still running: \`qlaunch logs ${config.name}\` shows its console, \`qlaunch stop ${config.name}\` stops it; its next start boots its disk cold`,
            cause: error,
          },
        );
      }
    },
  };
}
