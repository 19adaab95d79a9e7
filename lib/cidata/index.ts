// Public surface of the seed-image writers and the cloud-init file builders.

export {
  buildCloudConfig,
  buildMetaData,
  buildNetworkConfig,
  type CloudConfigOptions,
  type MetaDataOptions,
} from './cloud-config.js';

export {
  buildSeedImage,
  type NoCloudFiles,
  type NoCloudSeed,
  type SeedFilesystem,
  writeSeedImage,
} from './seed.js';
export { checkUserData } from './user-data.js';
