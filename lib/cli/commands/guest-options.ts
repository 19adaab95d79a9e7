// The options that describe a guest, shared by `run` and `create` so both read the same way.

import type { Argv } from 'yargs';
import type { CloudGuestInput } from '../../cloud/machine-choice.js';

/** --machine, --arch, --cpus, --memory, --disk-size, --port, --user-data, --accel, --firmware, --mount. */
export const guestOptions = <T>(y: Argv<T>) =>
  y
    .option('machine', { type: 'string', describe: 'a machine file (YAML) instead of an image' })
    .option('arch', {
      type: 'string',
      describe: 'guest architecture: x86_64, aarch64, riscv64 (default: host)',
    })
    .option('cpus', { type: 'number', describe: 'virtual CPUs (default 1, or the machine file’s)' })
    .option('memory', { type: 'string', describe: 'guest memory, e.g. 512M, 2G' })
    .option('disk-size', { type: 'string', describe: 'grow the root disk to SIZE, e.g. 10G' })
    .option('port', {
      type: 'string',
      array: true,
      describe:
        'forward 127.0.0.1:HOST to guest port: HOST:GUEST[/udp]; ADDR:HOST:GUEST listens on ADDR instead (0.0.0.0: every interface, with a warning)',
    })
    .option('user-data', { type: 'string', describe: 'cloud-init user-data file, passed through untouched' })
    .option('accel', {
      type: 'string',
      choices: ['auto', 'kvm', 'tcg'],
      describe: 'accelerator (default: probe)',
    })
    .option('firmware', {
      type: 'string',
      describe:
        'bios, uefi (from QEMU firmware descriptors) or a firmware FILE (default: none for a kernel, else the arch’s)',
    })
    .option('mount', {
      type: 'string',
      array: true,
      describe:
        'a host directory in the guest: HOST[:GUEST][:OPTIONS], OPTIONS ro or rw and type=virtiofs|9p|auto (default: same path, ro, auto); repeatable',
    })
    .option('sandbox', {
      type: 'boolean',
      describe: 'run QEMU under its seccomp filter (default; --no-sandbox turns it off)',
    })
    .option('run-as-root', {
      type: 'boolean',
      describe: 'under root, keep QEMU running as root (default: it drops to an unprivileged user)',
    })
    .option('display', {
      type: 'string',
      choices: ['none', 'vnc'],
      describe: 'vnc: a screen (a graphics device, VNC on a unix socket beside the guest); default none',
    });

/** What `guestOptions` parsed, plus the image, as the library takes it (`launch({ image })`, `Instance.create`). */
export interface GuestArgs {
  image?: string | undefined;
  machine?: string | undefined;
  arch?: string | undefined;
  cpus?: number | undefined;
  memory?: string | undefined;
  'disk-size'?: string | undefined;
  port?: string[] | undefined;
  'user-data'?: string | undefined;
  accel?: string | undefined;
  firmware?: string | undefined;
  mount?: string[] | undefined;
  sandbox?: boolean | undefined;
  'run-as-root'?: boolean | undefined;
  display?: string | undefined;
}

export const guestInput = (args: GuestArgs): CloudGuestInput => ({
  image: args.image,
  machine: args.machine,
  arch: args.arch,
  cpus: args.cpus,
  memory: args.memory,
  diskSize: args['disk-size'],
  ports: args.port,
  userData: args['user-data'],
  accel: args.accel,
  firmware: args.firmware,
  mounts: args.mount,
  sandbox: args.sandbox,
  runAsRoot: args['run-as-root'],
  display: args.display,
});
