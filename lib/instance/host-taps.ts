// An instance's taps on the host networks it is a member of: made before its QEMU starts, removed once it stops.

import { dirname } from 'node:path';
import { userIds } from '../host/run-as.js';
import type { VmSpec } from '../machine/spec.js';
import { attachHostMember, detachHostMember } from '../network/host-members.js';
import type { Confinement } from '../qemu/confinement.js';
import type { InstanceConfig } from './config.js';
import { type InstancePaths, networksDirFor } from './layout.js';

const dirOf = (paths: InstancePaths): string => networksDirFor(dirname(paths.dir));

/** `spec` with a tap on each of its host networks, owned by the user QEMU runs as; all or none. */
export async function attachTaps(
  spec: VmSpec,
  config: InstanceConfig,
  paths: InstancePaths,
  confinement: Confinement,
): Promise<VmSpec> {
  if (spec.network.private.length === 0) return spec;
  const uid =
    confinement.runAs === undefined
      ? (process.getuid?.() ?? 0)
      : ((await userIds(confinement.runAs))?.uid ?? 0);
  const dir = dirOf(paths);
  const nics = [];
  try {
    for (const nic of spec.network.private) {
      const tap = await attachHostMember(nic.name, config.name, uid, { dir });
      nics.push(tap === undefined ? nic : { ...nic, tap });
    }
  } catch (error) {
    await detachTaps(config, paths);
    throw error;
  }
  return { ...spec, network: { ...spec.network, private: nics } };
}

/** Remove the instance's taps (it has stopped); never throws: what is left goes at the network's next use. */
export async function detachTaps(config: InstanceConfig, paths: InstancePaths): Promise<void> {
  const dir = dirOf(paths);
  for (const { name } of config.networks)
    await detachHostMember(name, config.name, { dir }).catch(() => undefined);
}
