// What `launch()` boots: a kernel spec, a rootfs guest, or a cloud image or machine file, in one input type.

import type { Firmware, PortForward, VmSpecInput } from '../machine/spec.js';
import type { RootfsInput } from './rootfs.js';

/** What to boot: a kernel (with disks) as a spec, or a cloud image (`image`) or machine file (`machine`). */
export interface LaunchInput extends VmSpecInput {
  /** A template (machines/*.yaml), a stored image name, or a path to a disk image. */
  image?: string | undefined;
  /** A machine file instead of `image`. */
  machine?: string | undefined;
  /** Grow a cloud image's root disk to this size. */
  diskSize?: string | number | undefined;
  /** A cloud guest's HOST:GUEST forwards, bound to 127.0.0.1 (a kernel guest's are `forwards`). */
  ports?: readonly (string | PortForward)[] | undefined;
  /** A user-data file ("-": standard input), passed to cloud-init byte for byte after a check. */
  userData?: string | undefined;
  hostname?: string | undefined;
  /** bios, uefi or a firmware file, instead of the machine's (default: what the arch boots disks with). */
  firmware?: string | Firmware | undefined;
  /** false: QEMU runs without its seccomp filter (default: with it, where the QEMU build has seccomp). */
  sandbox?: boolean | undefined;
  /** true: under root, QEMU stays root (default: it drops to an unprivileged user once its files are open). */
  runAsRoot?: boolean | undefined;
  /** A kernel guest: boot on this host directory as root (read-only, writes in tmpfs) and run `command`. */
  rootfs?: RootfsInput['rootfs'] | undefined;
  /** A rootfs guest's command (argv); its exit status is `(await guest.exited).commandExitCode`. */
  command?: readonly string[] | undefined;
  /** A rootfs guest: the kernel's modules tree (default: the root's `lib/modules/RELEASE`). */
  modulesDir?: string | undefined;
}
