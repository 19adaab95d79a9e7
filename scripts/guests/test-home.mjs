#!/usr/bin/env node
// Makes (once) a qlaunch home for the tests whose image store holds the cached Debian test image as debian-12-local.
// Usage: node scripts/guests/test-home.mjs MANIFEST   → prints the home directory (QLAUNCH_HOME for the tests).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findImage, openImageStore, readDebianManifest, registerDebianImage } from '../../dist/lib/index.js';

const manifestPath = process.argv[2];
if (!manifestPath) {
  console.error('usage: test-home.mjs MANIFEST');
  process.exit(2);
}
const manifest = await readDebianManifest(manifestPath);
const cache =
  process.env.QLAUNCH_TEST_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qlaunch-test');
// One home per built image: a rebuilt image gets a fresh home.
const key = createHash('sha256').update(readFileSync(manifestPath)).digest('hex').slice(0, 12);
const home = join(cache, `home-${key}`);
const store = openImageStore({ dir: join(home, 'images') });
const name = manifest.arch === 'x86_64' ? 'debian-12-local' : `debian-12-local-${manifest.arch}`;
if (!(await findImage(store, name))) {
  console.error(`test-home: storing ${manifest.image} as ${name} in ${store.dir}`);
  await registerDebianImage(store, manifest, { name });
}
console.log(home);
