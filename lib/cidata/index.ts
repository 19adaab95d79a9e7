// Public surface of the seed-image writers and the cloud-init file builders.

export {
  buildCloudConfig,
  buildMetaData,
  buildNetworkConfig,
  type CloudConfigOptions,
  checkUserData,
  checkYamlMapping,
  type MetaDataOptions,
  newInstanceId,
  type UserDataKind,
  type WriteFile,
} from './cloud-config.js';
export { buildFat, DEFAULT_FAT_LABEL, type FatOptions } from './fat.js';
export { buildIso9660, DEFAULT_ISO_LABEL, type Iso9660Options } from './iso9660.js';
export {
  buildSeedImage,
  type NoCloudFiles,
  type NoCloudSeed,
  type SeedFilesystem,
  writeFileAtomic,
  writeSeedImage,
} from './seed.js';
export type { SeedData, SeedFile } from './seed-tree.js';
