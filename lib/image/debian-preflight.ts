// Whether this host can build a Debian image, and how (root or unshare mode): probing at the edge, deciding pure.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { ARCH_TABLE, hostArch } from '../arch/table.js';
import { ErrorCode, QlaunchError } from '../errors.js';
import { type BuildMode, MERGED_USR_HOOKS } from './debian-argv.js';
import type { DebianImageArch } from './debian-recipe.js';

/** What the decision needs to know about the host; plain data, so tests can make up any host. */
export interface BuildHostFacts {
  uid: number;
  /** Absolute path of each tool found on PATH. */
  tools: Readonly<Record<string, string | undefined>>;
  /** mmdebstrap's merged-usr hook directory exists. */
  mergedUsrHooks: boolean;
  /** Subordinate uids / gids this user may map (/etc/subuid, /etc/subgid); only probed when not root. */
  subuids: number;
  subgids: number;
  /** An unprivileged user namespace could be created; only probed when not root. */
  userns: boolean;
  /** Debian architecture of the host, when qlaunch knows it. */
  hostDebianArch: string | undefined;
  /** Foreign builds only: binfmt_misc is mounted, and QEMU's handler for the target is registered and enabled. */
  binfmtMounted: boolean;
  binfmtRegistered: boolean;
}

// One line of /etc/subuid: "name-or-uid:first:count".
const SUBID_LINE = /^([^:\s]+):(\d+):(\d+)\s*$/;

/** How many subordinate ids a subid file grants the user (named or by uid). */
export function subordinateIdCount(text: string, user: string, uid: number): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = SUBID_LINE.exec(line.trim());
    if (match && (match[1] === user || match[1] === String(uid))) total += Number(match[3]);
  }
  return total;
}

/** `qemu-user-static`'s binary and binfmt handler name for an architecture. */
export const qemuUserName = (arch: DebianImageArch): string => `qemu-${arch}`;

const EMULATION_PACKAGES = 'apt-get install qemu-user-static binfmt-support arch-test';
// mmdebstrap's user namespace maps 65536 ids, as Debian's default ranges do.
const SUBID_RANGE = 65536;

function missingTool(tool: string, pkg: string, why: string): QlaunchError {
  return new QlaunchError(ErrorCode.HOST_TOOL_MISSING, `${tool} is not installed (${why})`, {
    hint: `apt-get install ${pkg}`,
  });
}

/**
 * The mmdebstrap mode to build `arch` with on this host, or the first thing that stops the build.
 * `forced` picks a mode explicitly (unshare mode also works as root).
 */
export function chooseBuildMode(facts: BuildHostFacts, arch: DebianImageArch, forced?: BuildMode): BuildMode {
  if (!facts.tools['mmdebstrap']) throw missingTool('mmdebstrap', 'mmdebstrap', 'it builds the image root');
  if (!facts.mergedUsrHooks) {
    throw new QlaunchError(ErrorCode.HOST_TOOL_MISSING, "mmdebstrap's merged-usr hooks are missing", {
      hint: 'install mmdebstrap 1.3 or later from Debian (apt-get install mmdebstrap)',
    });
  }
  if (!facts.tools['mkfs.ext4']) throw missingTool('mkfs.ext4', 'e2fsprogs', 'it makes the root filesystem');
  if (!facts.tools['qemu-img']) throw missingTool('qemu-img', 'qemu-utils', 'it writes the qcow2 image');
  const mode = forced ?? (facts.uid === 0 ? 'root' : 'unshare');
  if (mode === 'root') {
    if (facts.uid !== 0) {
      throw new QlaunchError(ErrorCode.HOST_PRIVILEGE_MISSING, 'root mode needs root', {
        hint: 'run as root, or use unshare mode',
      });
    }
    if (!facts.tools['unshare'])
      throw missingTool('unshare', 'util-linux', 'it keeps the build mounts private');
  } else {
    checkUnshare(facts);
  }
  checkEmulation(facts, arch);
  return mode;
}

function checkUnshare(facts: BuildHostFacts): void {
  if (!facts.tools['fakeroot'])
    throw missingTool('fakeroot', 'fakeroot', 'unshare mode fills the disk as fake root');
  if (!facts.tools['tar']) throw missingTool('tar', 'tar', 'unshare mode unpacks the root from a tarball');
  if (facts.uid === 0) return;
  const why = 'not running as root, so mmdebstrap needs a user namespace (unshare mode)';
  if (!facts.tools['newuidmap'] || !facts.tools['newgidmap']) {
    throw new QlaunchError(ErrorCode.HOST_PRIVILEGE_MISSING, `newuidmap/newgidmap are missing: ${why}`, {
      hint: 'apt-get install uidmap, or build as root',
    });
  }
  if (facts.subuids < SUBID_RANGE || facts.subgids < SUBID_RANGE) {
    throw new QlaunchError(
      ErrorCode.HOST_PRIVILEGE_MISSING,
      `this user has no ${SUBID_RANGE} subordinate uids and gids in /etc/subuid and /etc/subgid: ${why}`,
      {
        hint: `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${userName()}, or build as root`,
      },
    );
  }
  if (!facts.userns) {
    throw new QlaunchError(
      ErrorCode.HOST_PRIVILEGE_MISSING,
      `the kernel refuses unprivileged user namespaces: ${why}`,
      {
        hint: 'allow them (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0), or build as root',
      },
    );
  }
}

function checkEmulation(facts: BuildHostFacts, arch: DebianImageArch): void {
  const target = ARCH_TABLE[arch].debianArch;
  if (facts.hostDebianArch === target) return;
  const qemu = qemuUserName(arch);
  const why = `building ${target} on this ${facts.hostDebianArch ?? 'foreign'} host runs ${target} programs under QEMU`;
  if (!facts.tools[`${qemu}-static`])
    throw missingTool(`${qemu}-static`, 'qemu-user-static binfmt-support arch-test', why);
  if (!facts.tools['arch-test']) throw missingTool('arch-test', 'arch-test', why);
  if (!facts.binfmtMounted) {
    // update-binfmts mounts binfmt_misc itself when it is not (containers without systemd), then enables.
    throw new QlaunchError(ErrorCode.HOST_EMULATION_UNAVAILABLE, `binfmt_misc is not mounted: ${why}`, {
      hint: `as root: update-binfmts --enable ${qemu} (mounts it too), or mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`,
    });
  }
  if (!facts.binfmtRegistered) {
    throw new QlaunchError(
      ErrorCode.HOST_EMULATION_UNAVAILABLE,
      `no enabled binfmt_misc handler ${qemu}: ${why}`,
      {
        hint: `as root: ${EMULATION_PACKAGES}, then update-binfmts --enable ${qemu}`,
      },
    );
  }
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? '');
  }
}

/** The first executable `name` in the PATH-like list `path`. */
export function findOnPath(name: string, path = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

const readText = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

const BINFMT = '/proc/sys/fs/binfmt_misc';

/** Looks at this host: tools on PATH (plus the sbin dirs a non-root PATH may lack), ids, namespaces, binfmt. */
export async function probeBuildHost(arch: DebianImageArch): Promise<BuildHostFacts> {
  const uid = process.getuid?.() ?? -1;
  const path = [process.env['PATH'] ?? '', '/usr/sbin', '/sbin'].join(delimiter);
  const names = [
    'mmdebstrap',
    'mkfs.ext4',
    'qemu-img',
    'unshare',
    'fakeroot',
    'tar',
    'newuidmap',
    'newgidmap',
  ];
  names.push('arch-test', `${qemuUserName(arch)}-static`);
  const tools = Object.fromEntries(names.map((name) => [name, findOnPath(name, path)]));
  let subuids = 0;
  let subgids = 0;
  let userns = false;
  if (uid !== 0) {
    const user = userName();
    subuids = subordinateIdCount(readText('/etc/subuid'), user, uid);
    subgids = subordinateIdCount(readText('/etc/subgid'), user, uid);
    if (tools['unshare']) {
      const { execa } = await import('execa');
      const trial = await execa(tools['unshare'], ['--user', '--map-root-user', 'true'], { reject: false });
      userns = trial.exitCode === 0;
    }
  }
  const host = hostArch();
  const handler = readText(`${BINFMT}/${qemuUserName(arch)}`);
  return {
    uid,
    tools,
    mergedUsrHooks: existsSync(MERGED_USR_HOOKS),
    subuids,
    subgids,
    userns,
    hostDebianArch: host ? ARCH_TABLE[host].debianArch : undefined,
    binfmtMounted: existsSync(`${BINFMT}/status`),
    binfmtRegistered: handler.split('\n')[0] === 'enabled',
  };
}
