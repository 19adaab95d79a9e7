// qlaunch's public library API: launch() and the Guest, named instances, images, private networks, the seed writer,
// the QMP and guest agent clients, and the error type with its codes. Everything else is internal
// (test/structure.test.ts keeps the list).

export { ARCHES, type Arch, hostArch } from './arch/table.js';
export {
  buildCloudConfig,
  buildMetaData,
  buildNetworkConfig,
  buildSeedImage,
  type CloudConfigOptions,
  checkUserData,
  type MetaDataOptions,
  type NoCloudFiles,
  type NoCloudSeed,
  type SeedFilesystem,
  writeSeedImage,
} from './cidata/index.js';
export { ErrorCode, isQlaunchError, QlaunchError } from './errors.js';
export type { ExportTarget, NotCarried } from './export/input.js';
export { type ExportRequest, type ExportResult, exportMachine } from './export/source.js';
export type { SshClient, SshEncoding, SshExecOptions, SshResult } from './guest/access/ssh.js';
export type { SshTarget } from './guest/access/ssh-args.js';
export type { SerialConsole, SerialMatch, WaitForSerialOptions } from './guest/console/serial.js';
export {
  type CloudGuest,
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
export type { WarmLayer, WarmRecord } from './guest/warm/record.js';
export { type RestoreOptions, readWarmRecord, restoreWarm } from './guest/warm/restore.js';
export { type WarmImageInput, warmImage } from './guest/warm/save.js';
export { type WarmStoredInput, warmStoredImage } from './guest/warm/store.js';
export { type HostFacts, type ProbeHostOptions, probeHost } from './host/index.js';
export { type BuildDebianImageOptions, buildDebianImage } from './image/debian-build.js';
export { type ImportImageOptions, importImage } from './image/import.js';
export { type PullImageOptions, pullImage } from './image/pull.js';
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
export { instancesRoot } from './instance/layout.js';
export type { InstanceState, InstanceStatus } from './instance/state.js';
export { removeUnusedImage as removeImage } from './instance/usage.js';
export type { Logger } from './logger.js';
export type { NetworkMember, NetworkRecord } from './network/record.js';
export {
  createNetwork,
  getNetwork,
  listNetworks,
  type NetworkStoreOptions,
  removeNetwork,
} from './network/store.js';
export {
  GuestAgent,
  type GuestExecOptions,
  type GuestExecResult,
  QgaCommandError,
  QgaError,
  type WaitForAgentOptions,
  waitForAgent,
} from './qga/index.js';
export {
  QmpClient,
  type QmpClientOptions,
  type QmpCommandMap,
  type QmpCommandName,
  QmpError,
  type QmpEvent,
  type QmpEventMap,
} from './qmp/index.js';
export { serveUi, type UiServer, type UiServerOptions } from './ui/server.js';
