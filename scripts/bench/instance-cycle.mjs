#!/usr/bin/env node
// Load test: N create → start → stop → rm cycles of the tiny guest through the CLI, P at a time, then a leak count
// (QEMU processes, sockets, files left). Leaks must be 0.
// Run: scripts/setup --tests && node scripts/bench/instance-cycle.mjs [cycles=50] [parallel=8]

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'dist/bin/qlaunch.js');
const cycles = Number(process.argv[2] ?? 50);
const parallel = Number(process.argv[3] ?? 8);

const manifest = execFileSync(join(root, 'scripts/guests/tiny'), ['x86_64'], { encoding: 'utf8' })
  .trim()
  .split('\n')
  .at(-1);
const guest = JSON.parse(readFileSync(manifest, 'utf8'));
const home = mkdtempSync(join(tmpdir(), 'qlb-'));
const machine = join(home, 'tiny.yaml');
writeFileSync(
  machine,
  [
    'name: tiny',
    'arch: x86_64',
    'memory: 128M',
    `kernel: ${guest.kernel}`,
    `initrd: ${guest.initrd}`,
    `append: ${guest.append} qlaunch.hold=1`,
    'readiness: { serial: QLAUNCH-HOLDING }',
  ].join('\n'),
);
const env = { ...process.env, QLAUNCH_HOME: home };
const q = (...args) => run(process.execPath, [cli, ...args], { env });

const times = [];
const failures = [];
let next = 0;
async function worker() {
  while (next < cycles) {
    const name = `c${next++}`;
    const started = performance.now();
    try {
      await q('create', name, '--machine', machine, '--accel', 'tcg');
      await q('start', name, '--timeout', '300');
      await q('stop', name);
      await q('rm', name);
      times.push(performance.now() - started);
    } catch (error) {
      failures.push(`${name}: ${(error.stderr || error.message).trim()}`);
      await q('rm', '--force', name).catch(() => {});
    }
  }
}

const began = performance.now();
await Promise.all(Array.from({ length: parallel }, worker));
const wall = performance.now() - began;

// Leaks: any QEMU whose argv names this home, any socket or file left under it (the machine file excepted).
const qemus = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  .split('\n')
  .filter((line) => line.includes('qemu-system') && line.includes(home));
const left = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (path !== machine) left.push(path);
  }
};
walk(home);
const instancesLeft = readdirSync(join(home, 'instances')).length;

const sorted = [...times].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(`${cycles} cycles, ${parallel} in parallel, ${times.length} ok, ${failures.length} failed`);
console.log(
  `wall ${s(wall)}; per cycle: median ${s(pct(50))}, p90 ${s(pct(90))}, max ${s(sorted.at(-1) ?? Number.NaN)}`,
);
console.log(`throughput: ${s(wall / Math.max(1, times.length))} of wall time per cycle`);
console.log(
  `leaks: ${qemus.length} QEMU processes, ${left.length} files or sockets, ${instancesLeft} instance dirs`,
);
for (const failure of failures.slice(0, 5)) console.log(`failure: ${failure}`);
for (const file of left.slice(0, 5)) console.log(`left: ${file}`);
rmSync(home, { recursive: true, force: true });
process.exitCode =
  failures.length === 0 && qemus.length === 0 && left.length === 0 && instancesLeft === 0 ? 0 : 1;
