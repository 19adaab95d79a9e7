#!/usr/bin/env node
// Benchmark: how long `qlaunch --version` takes next to a bare `node -e 0`. Target ratio <= 1.5.
// Run: npm run build && node scripts/bench/cli-start.mjs [runs]
// QLAUNCH_BENCH_AGAINST=DIR adds another built checkout (e.g. the last release) to the same interleaved run.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare } from './compare.mjs';

const against = process.env.QLAUNCH_BENCH_AGAINST;

const cli = fileURLToPath(new URL('../../dist/bin/qlaunch.js', import.meta.url));
const runs = Number(process.argv[2] ?? 20);
await compare(
  'cli-start',
  [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'] },
    { name: 'qlaunch --version', argv: [process.execPath, cli, '--version'] },
    ...(against
      ? [
          {
            name: `${against}: --version`,
            argv: [process.execPath, join(against, 'dist/bin/qlaunch.js'), '--version'],
          },
        ]
      : []),
  ],
  { runs, warmup: 2, target: 1.5 },
);
