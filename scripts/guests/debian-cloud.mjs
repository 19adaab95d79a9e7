// Runs qlaunch's Debian image builder for scripts/guests/debian-cloud: node debian-cloud.mjs MODULE ARCH OUTDIR RELEASE.
// Progress goes to stderr, the manifest path to stdout; SIGINT/SIGTERM abort the build, which then cleans up.

import { pathToFileURL } from 'node:url';

const [modulePath, arch, outDir, release] = process.argv.slice(2);
if (!modulePath || !arch || !outDir || !release) {
  process.stderr.write('usage: node debian-cloud.mjs MODULE ARCH OUTDIR RELEASE\n');
  process.exit(2);
}
const { buildDebianImage } = await import(pathToFileURL(modulePath).href);
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => controller.abort());
try {
  const image = await buildDebianImage({
    release,
    arch,
    outDir,
    // The tests' own additions: ping between guests (issue 19's proof) and iperf3 for scripts/bench/net.mjs.
    extraPackages: ['iputils-ping', 'iperf3'],
    signal: controller.signal,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${image.manifest}\n`);
} catch (error) {
  process.stderr.write(`error: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
  if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
  process.exitCode = 1;
}
