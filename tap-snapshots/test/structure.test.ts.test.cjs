/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/structure.test.ts > TAP > the public API is the reviewed list > names exported by lib/index.ts 1`] = `
Array [
  "ARCHES",
  "ErrorCode",
  "Guest",
  "GuestAgent",
  "Instance",
  "QgaCommandError",
  "QgaError",
  "QlaunchError",
  "QmpClient",
  "QmpError",
  "STOP_DEFAULTS",
  "buildCloudConfig",
  "buildDebianImage",
  "buildMetaData",
  "buildNetworkConfig",
  "buildSeedImage",
  "checkUserData",
  "createNetwork",
  "deleteSnapshot",
  "exportMachine",
  "findImage",
  "getImage",
  "getNetwork",
  "hostArch",
  "importImage",
  "instancesRoot",
  "isQlaunchError",
  "launch",
  "listImages",
  "listNetworks",
  "listSnapshots",
  "loadSnapshot",
  "openImageStore",
  "probeHost",
  "pullImage",
  "readWarmRecord",
  "removeImage",
  "removeNetwork",
  "restoreWarm",
  "saveSnapshot",
  "serveUi",
  "waitForAgent",
  "warmImage",
  "warmStoredImage",
  "writeSeedImage",
]
`
