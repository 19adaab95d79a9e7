// Before a guest joins a host bridge (`--network bridge:BR`): the bridge is there, qemu-bridge-helper is, it may
// run for a user (setuid root), and its ACL allows the bridge; each refusal names the fix.

import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { BridgeNic } from '../machine/spec.js';
import { type AclRule, bridgeAllowed, parseBridgeAcl } from './bridge-acl.js';

export interface BridgeHost {
  /** The caller's uid (default: this process's). */
  uid?: number | undefined;
  /** Where the helper may be (default: Debian's, then Fedora's). */
  helpers?: readonly string[] | undefined;
  /** The helper's ACL file (default /etc/qemu/bridge.conf). */
  acl?: string | undefined;
  /** Where interfaces are listed (default /sys/class/net). */
  sysNet?: string | undefined;
}

const HELPERS = ['/usr/lib/qemu/qemu-bridge-helper', '/usr/libexec/qemu-bridge-helper'];
const ACL = '/etc/qemu/bridge.conf';

const denied = (message: string, hint: string) =>
  new QlaunchError(ErrorCode.NETWORK_BRIDGE_DENIED, message, { hint });

/** The ACL's rules, `include`s read in place (a few levels deep, as a file may include another). */
async function readAcl(path: string, depth = 0): Promise<AclRule[] | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const rules: AclRule[] = [];
  for (const rule of parseBridgeAcl(text)) {
    if (rule.kind !== 'include') rules.push(rule);
    else if (depth < 4) rules.push(...((await readAcl(rule.path, depth + 1)) ?? []));
  }
  return rules;
}

/** `nics` with the helper's path, once each bridge is checked usable; throws naming the fix when one is not. */
export async function checkBridges(nics: readonly BridgeNic[], host: BridgeHost = {}): Promise<BridgeNic[]> {
  if (nics.length === 0) return [];
  const uid = host.uid ?? process.getuid?.();
  const sysNet = host.sysNet ?? '/sys/class/net';
  const aclPath = host.acl ?? ACL;
  let helper: string | undefined;
  for (const path of host.helpers ?? HELPERS) {
    if (
      await access(path, constants.X_OK).then(
        () => true,
        () => false,
      )
    ) {
      helper = path;
      break;
    }
  }
  if (helper === undefined) {
    throw denied(
      'qemu-bridge-helper is not installed: QEMU joins a host bridge through it',
      'install it (Debian: apt-get install qemu-system-common), or use a host network (`qlaunch network create NET --host`, as root)',
    );
  }
  if (uid !== 0 && ((await stat(helper)).mode & 0o4000) === 0) {
    throw denied(
      `${helper} is not setuid root, so it cannot attach a user's QEMU to a bridge`,
      `make it so as root (\`chmod u+s ${helper}\`), or run qlaunch as root`,
    );
  }
  const rules = await readAcl(aclPath);
  for (const { bridge } of nics) {
    const isBridge = await stat(`${sysNet}/${bridge}/bridge`).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isBridge) {
      throw new QlaunchError(
        ErrorCode.NETWORK_BRIDGE_NOT_FOUND,
        `there is no bridge ${bridge} on this host`,
        {
          hint: `name an existing bridge (\`ip -br link show type bridge\` lists them), or make one as root (\`ip link add ${bridge} type bridge\`)`,
        },
      );
    }
    if (!rules || !bridgeAllowed(bridge, rules)) {
      throw denied(
        `qemu-bridge-helper may not use bridge ${bridge}: ${rules ? `${aclPath} does not allow it` : `there is no ${aclPath}`}`,
        `as root, add the line \`allow ${bridge}\` to ${aclPath}`,
      );
    }
  }
  return nics.map((nic) => ({ ...nic, helper }));
}
