#!/usr/bin/env node
// Benchmark: a cold `qlaunch run debian-12-local -- true` against a clone of a warm image of it running `true` over
// the guest agent (restore → command output → gone), interleaved, medians, the ratio.
// Run: npm run build && node scripts/bench/warm.mjs [runs]   (QLAUNCH_HOME must hold debian-12-local, as the test
// setup's home does; the image is warmed once first, into a temporary directory removed at the end, unless
// QLAUNCH_BENCH_WARM names a warm image of debian-12-local to use).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, warmImage } from '../../dist/lib/index.js';
import { compare } from './compare.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
const temp = await mkdtemp(join(tmpdir(), 'qlaunch-bench-warm-'));
const dir = process.env.QLAUNCH_BENCH_WARM ?? join(temp, 'warm');
try {
  if (!process.env.QLAUNCH_BENCH_WARM) {
    console.error('warming debian-12-local (a cold boot to ready, once)…');
    await warmImage({ image: 'debian-12-local', cpus: 2, accel: 'tcg', dir }, { readyTimeout: 900_000 });
  }
  await compare(
    'warm: `true` in a throwaway Debian guest, cold boot vs warm clone',
    [
      {
        name: 'cold: qlaunch run -- true',
        argv: [
          process.execPath,
          `${root}dist/bin/qlaunch.js`,
          'run',
          'debian-12-local',
          '--cpus',
          '2',
          '--accel',
          'tcg',
          '--',
          'true',
        ],
      },
      {
        name: 'warm clone: launch + exec true (agent) + kill',
        run: async () => {
          const guest = await launch({ image: dir });
          try {
            const result = await guest.exec(['true']);
            if (result.exitCode !== 0) throw new Error(`true exited with ${result.exitCode}`);
          } finally {
            await guest.kill();
          }
        },
      },
    ],
    { runs, warmup: 0 },
  );
} finally {
  await rm(temp, { recursive: true, force: true });
}
