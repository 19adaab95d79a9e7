// Names and paths drawn from what QEMU's option syntax and shells could misread (commas, `=`, spaces, quotes, `$()`,
// newlines, colons, unicode, 100+ bytes): each is refused with a QlaunchError that has a code and a hint, or reaches
// QEMU's argv so that QEMU reads back exactly the instance's own paths.

import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { isQlaunchError } from '../../lib/errors.js';
import { checkImageName } from '../../lib/image/image-name.js';
import { qlaunchHome } from '../../lib/image/store-location.js';
import type { InstanceConfig } from '../../lib/instance/config.js';
import { Instance } from '../../lib/instance/instance.js';
import { checkInstanceName, checkSocketPaths, instancePaths } from '../../lib/instance/layout.js';
import { instanceArgvPlan, instanceSpec } from '../../lib/instance/start.js';
import { buildQemuArgv, qmpSocketOf } from '../../lib/qemu/argv.js';
import { parseOptionString } from '../../lib/qemu/options.js';
import { MAX_UNIX_PATH_BYTES } from '../../lib/qmp/socket.js';
import { shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

const FRAGMENTS = [
  ',',
  ',,',
  '=',
  ' ',
  "'",
  '"',
  '$(touch x)',
  '`id`',
  '\n',
  ':',
  'é',
  '日本',
  '🙂',
  'a',
  '-',
  'l'.repeat(50),
];
/** One path segment (no slash, no NUL) of hostile pieces. */
const segment = fc
  .array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.join(''));
const validName = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
const anyName = fc.oneof(
  segment,
  validName,
  fc.string({ maxLength: 80 }),
  fc.string({ minLength: 100, maxLength: 120 }),
);

/** Refused the way every qlaunch error is: a stable code, and a hint that says what to do. */
function refusedWell(error: unknown, code: string): boolean {
  return isQlaunchError(error) && error.code === code && (error.hint?.length ?? 0) > 0;
}

t.test('instance and image names: valid, or refused with a code and a hint', async (t) => {
  fc.assert(
    fc.property(anyName, (name) => {
      try {
        checkInstanceName(name);
        return instancePaths(name, '/r').dir === `/r/${name}`;
      } catch (error) {
        return refusedWell(error, 'INSTANCE_NAME_INVALID');
      }
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(anyName, (name) => {
      try {
        return checkImageName(name) === name && !/[,\s/:'"$`]/.test(name);
      } catch (error) {
        return refusedWell(error, 'IMAGE_NAME_INVALID');
      }
    }),
    { numRuns: 500 },
  );
  t.pass('every name was accepted cleanly or refused with a code and a hint');
});

const config = (name: string, kernel: string): InstanceConfig => ({
  schema: 1,
  name,
  created: '2025-01-01T00:00:00.000Z',
  source: 'test',
  arch: 'x86_64',
  cpus: 1,
  memoryMiB: 256,
  accel: 'tcg',
  disk: true,
  seed: true,
  kernel: `${kernel}/vmlinuz`,
  initrd: `${kernel}/initrd.img`,
  ports: [],
  networks: [],
  mac: '52:54:00:12:34:56',
  readiness: 'none',
});

/** The values given to `flag` in `args`. */
const valuesOf = (args: readonly string[], flag: string): string[] =>
  args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? ''] : []));

t.test(
  'any QLAUNCH_HOME: refused at create when its sockets cannot fit, else QEMU reads back its paths',
  async (t) => {
    let refused = 0;
    let built = 0;
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        validName,
        segment,
        (parts, name, kdir) => {
          const home = qlaunchHome({ QLAUNCH_HOME: `/tmp/${parts.join('/')}` });
          const paths = instancePaths(name, join(home, 'instances'));
          try {
            checkSocketPaths(paths);
          } catch (error) {
            refused++;
            return (
              refusedWell(error, 'INSTANCE_PATH_TOO_LONG') &&
              Buffer.byteLength(paths.serial) > MAX_UNIX_PATH_BYTES
            );
          }
          built++;
          const spec = instanceSpec(config(name, `/${kdir}`), paths);
          const host = { binary: 'qemu-system-x86_64', accel: { accel: 'tcg' as const } };
          const { args } = buildQemuArgv(instanceArgvPlan(spec, paths, host, undefined));
          const chardevs = new Map(
            valuesOf(args, '-chardev').map((value) => {
              const options = parseOptionString(value, 'backend');
              return [options.get('id'), options];
            }),
          );
          const keys = [...chardevs.values()].flatMap((options) => [...options.keys()]);
          const files = valuesOf(args, '-blockdev').map((json) => JSON.parse(json).file.filename);
          return (
            qmpSocketOf(args) === paths.qmp &&
            chardevs.get('qmp0')?.get('path') === paths.qmp &&
            chardevs.get('serial0')?.get('path') === paths.serial &&
            chardevs.get('serial0')?.get('logfile') === paths.console &&
            chardevs.get('qga0')?.get('path') === paths.guestAgent &&
            // Nothing in a path became an option of its own.
            keys.every((key) =>
              ['backend', 'id', 'path', 'server', 'wait', 'logfile', 'logappend'].includes(key),
            ) &&
            valuesOf(args, '-pidfile')[0] === paths.pid &&
            files.join('\0') === [paths.overlay, paths.seed].join('\0') &&
            valuesOf(args, '-kernel')[0] === `/${kdir}/vmlinuz` &&
            valuesOf(args, '-initrd')[0] === `/${kdir}/initrd.img`
          );
        },
      ),
      { numRuns: 400 },
    );
    t.ok(refused > 0 && built > 0, `both outcomes were drawn (${refused} refused, ${built} built)`);
  },
);

t.test(
  'a home moved to a path too long for its sockets: start refuses before QEMU, naming the fix',
  async (t) => {
    const top = shortTempDir(t);
    const machine = await tinyMachineFile(top);
    await Instance.create({ name: 'c', machine, accel: 'tcg' }, { root: join(top, 'a') });
    const moved = join(top, 'l'.repeat(90));
    renameSync(join(top, 'a'), moved);
    const instance = await Instance.open('c', { root: moved });
    await t.rejects(instance.start(), { code: 'INSTANCE_PATH_TOO_LONG', hint: /QLAUNCH_HOME/ });
    t.notOk(existsSync(instance.paths.pid), 'no QEMU was started');
  },
);
