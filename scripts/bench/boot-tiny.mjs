#!/usr/bin/env node
// Benchmark: `qlaunch run` against the same QEMU argv run raw, booting the tiny guest until it powers off.
// Target: qlaunch / raw <= 1.05. Run: scripts/setup --tests && node scripts/bench/boot-tiny.mjs [runs] [arch...]
// QLAUNCH_BENCH_AGAINST=DIR adds another built checkout (e.g. the last release) to the same interleaved run.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normalizeSpec } from '../../dist/lib/machine/spec.js';
import { buildQemuArgv } from '../../dist/lib/qemu/argv.js';
import { compare } from './compare.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const arches = process.argv.slice(3).length ? process.argv.slice(3) : ['x86_64', 'aarch64', 'riscv64'];
const memory = '256M';
const against = process.env.QLAUNCH_BENCH_AGAINST;

/** `qlaunch run` arguments booting the tiny guest of `arch` until it powers off. */
const runArgs = (arch, guest) => [
  'run',
  '--arch',
  arch,
  '--kernel',
  guest.kernel,
  '--initrd',
  guest.initrd,
  '--append',
  guest.append,
  '--memory',
  memory,
  '--accel',
  'tcg',
  '--quiet',
];

for (const arch of arches) {
  const manifestPath = execFileSync(`${root}scripts/guests/tiny`, [arch], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  const guest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const spec = normalizeSpec({
    arch,
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: guest.append,
    memory,
  });
  const { file, args } = buildQemuArgv({
    spec,
    binary: `qemu-system-${arch}`,
    accel: { accel: 'tcg' },
    qmpSocket: '/unused',
    serialSocket: '/unused',
  });
  // The raw baseline: the same machine, minus what only qlaunch needs (paused start, QMP, console socket).
  const raw = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-S') continue;
    if (args[i] === '-chardev' || args[i] === '-mon' || args[i] === '-serial') {
      i++;
      continue;
    }
    raw.push(args[i]);
  }
  raw.push('-serial', 'stdio');
  await compare(
    `boot-tiny ${arch}: boot to power-off`,
    [
      { name: 'raw qemu', argv: [file, ...raw] },
      {
        name: 'qlaunch run',
        argv: [process.execPath, `${root}dist/bin/qlaunch.js`, ...runArgs(arch, guest)],
      },
      ...(against
        ? [
            {
              name: `${against}: run`,
              argv: [process.execPath, `${against}/dist/bin/qlaunch.js`, ...runArgs(arch, guest)],
            },
          ]
        : []),
    ],
    { runs, target: 1.05 },
  );
}
