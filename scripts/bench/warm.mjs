#!/usr/bin/env node
// Benchmark: cold `qlaunch run debian-12-local -- true` against `qlaunch run WARM -- true` (a clone of a warm image
// of it), interleaved, medians, the ratio; where a clone's time goes (spawn, state load, agent, clock step, sshd);
// and 8 clones started at once (wall time until all 8 ran a command).
// Run: npm run build && node scripts/bench/warm.mjs [runs]   (QLAUNCH_HOME, or the test setup's QLAUNCH_TEST_HOME,
// must hold debian-12-local). The image is warmed once into a temporary home beside it (hard links to the base:
// nothing is copied), removed at the end.

import { linkSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { launch, warmStoredImage } from '../../dist/lib/index.js';
import { compare, median } from './compare.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const clones = Number(process.env.QLAUNCH_BENCH_CLONES ?? 8);
const source = process.env.QLAUNCH_HOME ?? process.env.QLAUNCH_TEST_HOME;
if (!source) throw new Error('set QLAUNCH_HOME to a home whose store holds debian-12-local');

const home = await mkdtemp(join(tmpdir(), 'qlaunch-bench-warm-'));
const base = join(home, 'images', 'debian-12-local');
mkdirSync(base, { recursive: true, mode: 0o700 });
for (const file of readdirSync(join(source, 'images', 'debian-12-local'))) {
  linkSync(join(source, 'images', 'debian-12-local', file), join(base, file));
}
process.env.QLAUNCH_HOME = home;
const qlaunch = (...args) => [process.execPath, `${root}dist/bin/qlaunch.js`, ...args];

try {
  console.error('warming debian-12-local as bench-warm (a cold boot to ready, once)…');
  const started = Date.now();
  const { record } = await warmStoredImage(
    { image: 'debian-12-local', name: 'bench-warm', accel: 'tcg' },
    { readyTimeout: 900_000 },
  );
  console.log(
    `warmed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${record.cpus} vCPU, ${record.memoryMiB} MiB; ` +
      `device state ${(record.stateBytes / 2 ** 20).toFixed(1)} MiB, RAM file ${(record.ramBytes / 2 ** 20).toFixed(0)} MiB allocated`,
  );

  await compare(
    'warm: `qlaunch run IMAGE -- true`, cold boot vs warm clone',
    [
      {
        name: 'cold: run debian-12-local -- true',
        argv: qlaunch('run', 'debian-12-local', '--accel', 'tcg', '--', 'true'),
      },
      { name: 'warm: run bench-warm -- true', argv: qlaunch('run', 'bench-warm', '--', 'true') },
    ],
    { runs, warmup: 0 },
  );

  // Where a clone's time goes: restoreWarm logs each step's milliseconds from its start.
  const steps = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line) => {
        const entry = JSON.parse(line);
        if (entry.msg === 'clone ready') steps.push(entry.ms);
      },
    },
  );
  const exec = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const guest = await launch({ image: 'bench-warm' }, { logger });
    const t1 = performance.now();
    await guest.exec(['true']);
    exec.push({ ready: t1 - t0, command: performance.now() - t1 });
    await guest.kill();
  }
  console.log(`\na clone, step by step (library, ${runs} runs; median ms from the start of launch())`);
  const keys = Object.keys(steps[0] ?? {});
  console.table(
    Object.fromEntries([
      ...keys.map((k) => [k, Math.round(median(steps.map((s) => s[k])))]),
      ['launch() resolved', Math.round(median(exec.map((e) => e.ready)))],
      ['+ exec true (agent)', Math.round(median(exec.map((e) => e.command)))],
    ]),
  );

  const t0 = performance.now();
  const guests = await Promise.all(
    Array.from({ length: clones }, async () => {
      const guest = await launch({ image: 'bench-warm' });
      const { exitCode } = await guest.exec(['true']);
      if (exitCode !== 0) throw new Error(`true exited with ${exitCode}`);
      return { guest, ms: performance.now() - t0 };
    }),
  );
  const wall = performance.now() - t0;
  await Promise.all(guests.map((g) => g.guest.kill()));
  console.log(
    `\n${clones} clones at once: all ran a command after ${(wall / 1000).toFixed(1)} s wall ` +
      `(first ${(Math.min(...guests.map((g) => g.ms)) / 1000).toFixed(1)} s; target ≤ 8 s)`,
  );
} finally {
  await rm(home, { recursive: true, force: true });
}
