#!/usr/bin/env node
// Makes (once) a qlaunch home for the tests whose image store holds the cached Debian test images.
// Usage: node scripts/guests/test-home.mjs MANIFEST...   → prints the home directory (QLAUNCH_HOME for the tests).
// Each image is stored under the name `image build` gives it, which `run debian-N-local --arch ARCH` looks for:
// debian-12-local (x86_64), debian-12-local-aarch64, debian-13-local-riscv64.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readDebianManifest } from '../../dist/lib/image/debian-manifest.js';
import { registerDebianImage } from '../../dist/lib/image/register.js';
import { findImage, openImageStore } from '../../dist/lib/image/store.js';
import { defaultBuildName } from '../../dist/lib/image/store-build.js';

const manifestPaths = process.argv.slice(2);
if (manifestPaths.length === 0) {
  console.error('usage: test-home.mjs MANIFEST...');
  process.exit(2);
}
const manifests = await Promise.all(manifestPaths.map((path) => readDebianManifest(path)));
const names = manifests.map((m) => defaultBuildName(m.release, m.arch));
const twice = names.find((name, i) => names.indexOf(name) !== i);
if (twice) {
  console.error(`test-home: two manifests for ${twice}`);
  process.exit(2);
}
const cache =
  process.env.QLAUNCH_TEST_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qlaunch-test');
// One home per set of built images, whatever their order: a rebuilt image gets a fresh home.
const hash = createHash('sha256');
for (const text of manifestPaths.map((path) => readFileSync(path, 'utf8')).sort()) hash.update(text);
const home = join(cache, `home-${hash.digest('hex').slice(0, 12)}`);
const store = openImageStore({ dir: join(home, 'images') });
for (const [i, manifest] of manifests.entries()) {
  const name = names[i];
  if (!(await findImage(store, name))) {
    console.error(`test-home: storing ${manifest.image} as ${name} in ${store.dir}`);
    await registerDebianImage(store, manifest, { name });
  }
}
console.log(home);
