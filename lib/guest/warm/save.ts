// warmImage(): boot an image cold, wait until it is ready, run a preparation command, then save it as a warm image
// (disk layer, RAM file, device state, record) that clones restore from in about a second.

import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdtemp, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ARCH_TABLE } from '../../arch/table.js';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { GUEST_FILES } from '../../files.js';
import { machineCatalog } from '../../host/machine-cache.js';
import { machineTypeOf } from '../../host/machines.js';
import { userIds } from '../../host/run-as.js';
import { qemuImgInfo } from '../../image/qemu-img.js';
import type { ArgvPlan } from '../../qemu/argv.js';
import { shellWord } from '../../shell-word.js';
import type { CloudGuest } from '../guest.js';
import { launchImageWith } from '../launch-image.js';
import type { LaunchInput } from '../launch-input.js';
import type { LaunchOptions } from '../launch-options.js';
import { WARM_FILES } from './files.js';
import { saveDeviceState } from './migrate.js';
import { type WarmRecord, warmRecordOf } from './record.js';

export interface WarmImageInput extends LaunchInput {
  image: string;
  /** Where the warm image goes: a directory that must not exist yet. */
  dir: string;
  /** Run in the guest (no shell: argv[0] is the program) once it is ready, before it is saved. */
  prep?: readonly string[] | undefined;
}

const failed = (message: string, hint: string, cause?: unknown) =>
  new QlaunchError(ErrorCode.WARM_SAVE_FAILED, message, { hint, cause });

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const interrupted = () =>
  new QlaunchError(ErrorCode.VM_ABORTED, 'warming was interrupted', {
    hint: 'nothing was saved or left running',
  });

/** The last lines of a failed command's stderr, as the end of a message; empty when it wrote none. */
const tail = (stderr: string): string => {
  const lines = stderr.trim().split('\n').slice(-3).join(' / ');
  return lines === '' ? '' : `: ${lines.slice(-300)}`;
};

/** The keys of known_hosts lines, without the host they were seen at (a clone's forward is on another port). */
const hostKeysOf = (knownHosts: string): string[] =>
  knownHosts
    .split('\n')
    .map((line) => line.trim().split(/\s+/).slice(1).join(' '))
    .filter((key) => key !== '');

/** The QEMU version, and the versioned machine type it runs (`q35` resolved to `pc-q35-7.2`), from its catalog. */
async function qemuFacts(plan: ArgvPlan, cacheDir: string | undefined) {
  const catalog = await machineCatalog(plan.binary, { cacheDir });
  const asked = plan.spec.machineType ?? ARCH_TABLE[plan.spec.arch].machine;
  const machineType = catalog && machineTypeOf(asked, catalog.machines);
  if (!catalog || !machineType) {
    throw failed(
      `${plan.binary} did not say its version and which machine type ${asked} is`,
      `check that ${plan.binary} -version and -machine help work`,
    );
  }
  return { qemuVersion: catalog.qemuVersion, machineType };
}

/** The ids QEMU dropped to under `-runas`, which the state socket is handed to; undefined when it kept ours. */
async function qemuUserOf(plan: ArgvPlan): Promise<{ uid: number; gid: number } | undefined> {
  const user = plan.confinement?.runAs;
  if (user === undefined) return undefined;
  const ids = await userIds(user);
  if (!ids) throw failed(`QEMU runs as ${user}, which /etc/passwd does not list`, 'check /etc/passwd');
  return ids;
}

/** Boot `input.image`, run `input.prep`, save the guest to `input.dir`; resolves with the record written. */
export async function warmImage(input: WarmImageInput, options: LaunchOptions = {}): Promise<WarmRecord> {
  const { dir, ...rest } = input;
  if (
    await stat(dir).then(
      () => true,
      () => false,
    )
  ) {
    throw new QlaunchError(ErrorCode.WARM_SAVE_FAILED, `${dir} already exists`, {
      hint: 'remove it, or give another directory: a warm image is never overwritten',
    });
  }
  // Built beside its final place and renamed into it: a failed warm leaves nothing half-made.
  const staging = await mkdtemp(join(dirname(dir), `.${basename(dir)}.warming-`));
  try {
    const { record } = await saveWarm(rest, staging, options);
    await rename(staging, dir);
    return record;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/** What saveWarm() wrote, with the facts a store record of it needs. */
export interface SavedWarm {
  record: WarmRecord;
  /** Bytes the guest sees on its disk. */
  virtualSize: number;
}

/** Boot, prepare and save a guest into `staging`, an empty private directory; a failure leaves no guest running. */
export async function saveWarm(
  input: Omit<WarmImageInput, 'dir'>,
  staging: string,
  options: LaunchOptions = {},
): Promise<SavedWarm> {
  const { prep, ...launchInput } = input;
  const say = options.onProgress ?? (() => {});
  let guest: CloudGuest | undefined;
  try {
    const ram = join(staging, WARM_FILES.ram);
    await writeFile(ram, '', { mode: 0o600 });
    let plan: ArgvPlan | undefined;
    guest = await launchImageWith(
      launchInput,
      { ...options, keep: false },
      {
        argv: (spec) => ({
          memoryFile: { path: ram, share: true },
          vmgenid: spec.arch === 'x86_64' ? randomUUID() : undefined,
        }),
        onPlan: (p) => {
          // A clone could not get its host directories back: they are not part of the saved state.
          if (p.shares?.length) {
            throw new QlaunchError(
              ErrorCode.WARM_UNSUPPORTED,
              'warm images of guests with mounts are not supported',
              {
                hint: 'warm the guest without --mount (or mounts: in its machine file)',
              },
            );
          }
          if (p.firmware?.kind === 'pflash') {
            throw new QlaunchError(
              ErrorCode.WARM_UNSUPPORTED,
              'warm images of UEFI guests are not supported yet',
              {
                hint: 'warm a BIOS or direct-kernel guest (the firmware variable store is not saved yet)',
              },
            );
          }
          plan = p;
        },
      },
    );
    if (!plan) throw failed('the guest started without an argv plan', 'report this as a bug');
    // The clone is reached over the agent: it must answer before the guest is worth saving.
    const probe = await guest.exec(['true'], { signal: options.signal });
    if (probe.exitCode !== 0)
      throw failed('the guest agent could not run `true`', 'check qemu-guest-agent in the image');
    if (prep && prep.length > 0) {
      say(`running ${prep.map(shellWord).join(' ')}`);
      const result = await guest.exec(prep, { signal: options.signal });
      if (result.exitCode !== 0) {
        throw failed(
          `the preparation command ${prep[0]} exited with status ${result.exitCode}${tail(result.stderr)}`,
          'fix the command (it runs in the guest without a shell; wrap it in sh -c for one)',
        );
      }
    }
    if (options.signal?.aborted) throw interrupted();
    say('saving the running guest (disk layer, RAM, device state)');
    const [{ machineType, qemuVersion }, qemuUser, layerInfo, knownHosts] = await Promise.all([
      qemuFacts(plan, options.cacheDir),
      qemuUserOf(plan),
      qemuImgInfo(join(guest.dir, GUEST_FILES.overlay), { format: 'qcow2' }),
      readFile(join(guest.dir, GUEST_FILES.knownHosts), 'utf8').catch(() => ''),
    ]);
    const base = layerInfo.fullBackingFilename;
    if (!base || !layerInfo.backingFormat)
      throw failed('the guest overlay has no backing image', 'report this as a bug');
    await guest.qmp.execute('stop');
    const stateBytes = await saveDeviceState(guest.qmp, join(staging, WARM_FILES.state), qemuUser);
    // Migration completion flushed and released the disks: QEMU (paused) writes none of them again, so the run's
    // files are copied before `quit` ends it and its run directory goes with it.
    const runDir = guest.dir;
    await Promise.all([
      copyFile(
        join(runDir, GUEST_FILES.overlay),
        join(staging, WARM_FILES.layer),
        constants.COPYFILE_FICLONE,
      ),
      copyFile(join(runDir, GUEST_FILES.seed), join(staging, WARM_FILES.seed)),
      copyFile(join(runDir, GUEST_FILES.key), join(staging, WARM_FILES.key)),
    ]);
    // Clones stand on the layer and the seed, and map the RAM copy-on-write: none of them is ever written again.
    await guest.qmp.execute('quit').catch(() => {});
    await guest.exited;
    await chmod(join(staging, WARM_FILES.layer), 0o444);
    await chmod(join(staging, WARM_FILES.seed), 0o444);
    await chmod(join(staging, WARM_FILES.key), 0o600);
    await chmod(join(staging, WARM_FILES.state), 0o400);
    const ramBytes = (await stat(ram)).blocks * 512;
    const record = warmRecordOf(plan, {
      saved: new Date(),
      qemuVersion,
      machineType,
      layers: [
        { path: WARM_FILES.layer, format: 'qcow2' },
        { path: base, format: layerInfo.backingFormat },
      ],
      ssh: { user: guest.ssh.target.user, key: WARM_FILES.key, hostKeys: hostKeysOf(knownHosts) },
      machine: guest.machine,
      stateBytes,
      ramBytes,
    });
    await writeFile(join(staging, WARM_FILES.record), `${JSON.stringify(record, null, 2)}\n`, {
      mode: 0o600,
    });
    for (const name of Object.values(WARM_FILES)) await fsyncFile(join(staging, name));
    return { record, virtualSize: layerInfo.virtualSize };
  } catch (error) {
    await guest?.kill();
    throw error;
  }
}
