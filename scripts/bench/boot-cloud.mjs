#!/usr/bin/env node
// Benchmark: `qlaunch run debian-12-local -- true` against the same job done by hand (boot-cloud-raw.sh:
// qemu-img, cloud-localds, raw qemu, an SSH poll loop), interleaved, medians. Target ratio <= 1.05.
// Run: scripts/setup --tests && node scripts/bench/boot-cloud.mjs [runs]   (QLAUNCH_HOME must hold debian-12-local;
// the test setup's home does: QLAUNCH_HOME=$(node scripts/guests/test-home.mjs $(scripts/guests/debian-cloud)))

import { fileURLToPath } from 'node:url';
import { findImage, openImageStore } from '../../dist/lib/index.js';
import { compare } from './compare.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runs = Number(process.argv[2] ?? 3);
const image = await findImage(openImageStore(), 'debian-12-local');
if (!image) {
  console.error(
    'boot-cloud: no debian-12-local in the image store (qlaunch image build debian-12, or set QLAUNCH_HOME)',
  );
  process.exit(1);
}
await compare(
  'boot-cloud: throwaway Debian guest, ready (SSH + cloud-init), run `true`, gone',
  [
    {
      name: 'by hand (raw qemu)',
      argv: [
        'bash',
        `${root}scripts/bench/boot-cloud-raw.sh`,
        image.path,
        image.kernelPath,
        image.initrdPath,
        image.append ?? '',
        image.defaultUser ?? 'debian',
      ],
    },
    {
      name: 'qlaunch run',
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
  ],
  { runs, warmup: 0, target: 1.05 },
);
