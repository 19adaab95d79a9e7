#!/usr/bin/env node
// Benchmark: cold `qlaunch run debian-12-local -- true` on two builds of the image, interleaved, medians, the ratio:
// the image before a recipe change against the image after it (issue 12 §4's cuts). Each home's store must hold
// debian-12-local (scripts/guests/test-home.mjs MANIFEST prints such a home for a built image).
// Run: npm run build && node scripts/bench/cold.mjs BEFORE_HOME AFTER_HOME [runs=5]

import { fileURLToPath } from 'node:url';
import { compare } from './compare.mjs';

const [before, after, runs = '5'] = process.argv.slice(2);
if (!before || !after) {
  console.error('usage: node scripts/bench/cold.mjs BEFORE_HOME AFTER_HOME [runs]');
  process.exit(2);
}
const cli = fileURLToPath(new URL('../../dist/bin/qlaunch.js', import.meta.url));
// `env` sets the home for the one command: argv only, no shell.
const run = (home) => ['env', `QLAUNCH_HOME=${home}`, process.execPath, cli, 'run', 'debian-12-local'];
const job = ['--accel', 'tcg', '--', 'true'];

await compare(
  'cold run debian-12-local -- true: image before vs after',
  [
    { name: `before (${before})`, argv: [...run(before), ...job] },
    { name: `after (${after})`, argv: [...run(after), ...job] },
  ],
  { runs: Number(runs), warmup: 1, target: 0.6 },
);
