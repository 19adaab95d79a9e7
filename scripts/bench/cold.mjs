#!/usr/bin/env node
// Benchmark: cold `qlaunch run IMAGE -- true` on two builds of an image, interleaved, medians, the ratio: the image
// before a recipe change against the image after it (issue 12 §4's cuts), or two releases. Each side is a home whose
// store holds the image, `HOME` for debian-12-local or `HOME:IMAGE` for another (scripts/guests/test-home.mjs MANIFEST
// prints such a home for a built image).
// Run: npm run build && node scripts/bench/cold.mjs BEFORE_HOME[:IMAGE] AFTER_HOME[:IMAGE] [runs=5]

import { fileURLToPath } from 'node:url';
import { compare } from './compare.mjs';

const [before, after, runs = '5'] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: node scripts/bench/cold.mjs BEFORE_HOME[:IMAGE] AFTER_HOME[:IMAGE] [runs]');
  process.exit(2);
}
const cli = fileURLToPath(new URL('../../dist/bin/qlaunch.js', import.meta.url));
// `env` sets the home for the one command: argv only, no shell.
const run = (side) => {
  const [home, image = 'debian-12-local'] = side.split(':');
  return ['env', `QLAUNCH_HOME=${home}`, process.execPath, cli, 'run', image, '--accel', 'tcg', '--', 'true'];
};

await compare(
  'cold run IMAGE -- true: before vs after',
  [
    { name: `before (${before})`, argv: run(before) },
    { name: `after (${after})`, argv: run(after) },
  ],
  { runs: Number(runs), warmup: 1, target: 0.6 },
);
