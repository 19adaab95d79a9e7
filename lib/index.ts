// qlaunch's public library API.

export { ARCH_TABLE, ARCHES, type Arch, hostArch, parseArch } from './arch/table.js';
export * from './cidata/index.js';
export { ErrorCode, isQlaunchError, QlaunchError } from './errors.js';
export { type SshClient, type SshResult, type SshTarget, sshExec } from './guest/access/ssh.js';
export type { SerialConsole, SerialMatch, WaitForSerialOptions } from './guest/console/serial.js';
export { type ResolveFirmwareOptions, resolveFirmware } from './guest/firmware.js';
export {
  type CloudGuest,
  type CloudParts,
  Guest,
  type GuestCommandResult,
  type GuestExecOptions as GuestCommandOptions,
  type GuestExit,
  type StopOptions,
} from './guest/guest.js';
export { type LaunchInput, type LaunchOptions, launch } from './guest/launch.js';
export type { Forward, ForwardOptions } from './guest/ports/ports.js';
export {
  deleteSnapshot,
  listSnapshots,
  loadSnapshot,
  type SaveSnapshotOptions,
  type SnapshotInfo,
  type SnapshotOptions,
  saveSnapshot,
} from './guest/snapshot/snapshot.js';
export { STOP_DEFAULTS, type StopHow } from './guest/stop.js';
export * from './host/index.js';
export { type BuildDebianImageOptions, buildDebianImage } from './image/debian-build.js';
export { type DebianImage, readDebianManifest } from './image/debian-manifest.js';
export { pullImage } from './image/pull.js';
export { createOverlay, qemuImgInfo } from './image/qemu-img.js';
export { registerDebianImage, registerImage } from './image/register.js';
export {
  findImage,
  getImage,
  type ImageStore,
  listImages,
  openImageStore,
  type StoredImage,
} from './image/store.js';
export type { InstanceConfig, InstanceReadiness } from './instance/config.js';
export type { CreateInstanceInput } from './instance/create.js';
export {
  type ExecResult,
  Instance,
  type InstanceInfo,
  type InstanceOptions,
  type StartInstanceOptions,
  type StartResult,
  type StopResult,
} from './instance/instance.js';
export { INSTANCE_FILES, instancesRoot } from './instance/layout.js';
export type { InstanceState, InstanceStatus } from './instance/state.js';
export { removeUnusedImage as removeImage } from './instance/usage.js';
export type { Logger } from './logger.js';
export { privateNetMac, privateNetSegment } from './machine/private-net.js';
export { formatMiB, parseSizeMiB } from './machine/size.js';
export {
  type DiskSpec,
  type NetworkSpec,
  normalizeSpec,
  type PortForward,
  parsePortForward,
  type VmSpec,
  type VmSpecInput,
} from './machine/spec.js';
export { type ArgvPlan, buildQemuArgv, type QemuCommand, type ResolvedFirmware } from './qemu/argv.js';
export {
  GuestAgent,
  type GuestExecOptions,
  type GuestExecResult,
  QgaCommandError,
  QgaError,
  type WaitForAgentOptions,
  waitForAgent,
} from './qga/index.js';
export * from './qmp/index.js';
