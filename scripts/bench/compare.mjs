// Shared by the benchmarks: run commands interleaved, report medians and the ratio to a baseline.

import { spawn } from 'node:child_process';

/** Run argv to completion; resolves with wall-clock milliseconds, rejects on a non-zero exit. */
export function timeCommand(argv, options = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${argv.join(' ')} failed (${signal ?? code}): ${stderr.trim()}`));
    });
  });
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One timed run of a case: a command (`argv`) or an in-process function (`run`). */
async function timeCase(c) {
  if (c.argv) return timeCommand(c.argv);
  const started = process.hrtime.bigint();
  await c.run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/**
 * Run every case `runs` times, interleaved (A B A B …, order alternating each round) so drift hits all alike.
 * cases: [{ name, argv } | { name, run }]; the first case is the baseline for ratios.
 */
export async function compare(title, cases, { runs = 5, warmup = 1, target } = {}) {
  for (let i = 0; i < warmup; i++) for (const c of cases) await timeCase(c);
  const times = new Map(cases.map((c) => [c.name, []]));
  for (let round = 0; round < runs; round++) {
    const order = round % 2 ? [...cases].reverse() : cases;
    for (const c of order) times.get(c.name).push(await timeCase(c));
  }
  const base = median(times.get(cases[0].name));
  console.log(`\n${title} (${runs} runs each, interleaved; median ms)`);
  const rows = cases.map((c) => {
    const m = median(times.get(c.name));
    const ratio = m / base;
    const speedup = base / m;
    return {
      case: c.name,
      // Sub-10 ms cases (in-process work) keep two decimals.
      median_ms: Number(m.toFixed(m < 10 ? 2 : 0)),
      min_ms: Number(Math.min(...times.get(c.name)).toFixed(m < 10 ? 2 : 0)),
      ratio: ratio.toFixed(3),
      speedup: `${speedup.toFixed(1)}x`,
    };
  });
  console.table(rows);
  const last = rows.at(-1);
  if (target !== undefined) {
    const ok = Number(last.ratio) <= target;
    console.log(
      `${last.case} / ${cases[0].name} = ${last.ratio} (target <= ${target}): ${ok ? 'met' : 'NOT met'}`,
    );
  }
  return rows;
}
