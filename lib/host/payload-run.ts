// Running a probe payload in a real QEMU with a hard deadline, and collecting what it did.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PayloadAccel, type PayloadRun, payloadArgv } from './payload.js';
import type { ProbePayload } from './payload-types.js';

export interface RunPayloadOptions extends PayloadAccel {
  /** Path of the qemu-system binary for the payload's arch. */
  binary: string;
  /** ms the guest code gets from its first serial byte until QEMU exits. */
  deadlineMs?: number | undefined;
  /** ms QEMU gets from spawn until the guest's first serial byte (slow on a loaded host; not the guest's fault). */
  startupMs?: number | undefined;
}

export const DEFAULT_DEADLINE_MS = 1000;
export const DEFAULT_STARTUP_MS = 5000;

/** Writes the payload image to a private temp dir, runs QEMU on it, kills it at the deadline; never throws for QEMU's sake. */
export async function runPayload(payload: ProbePayload, options: RunPayloadOptions): Promise<PayloadRun> {
  const dir = await mkdtemp(join(tmpdir(), 'qlaunch-probe-'));
  try {
    const file = join(dir, `probe-${payload.arch}.bin`);
    await writeFile(file, payload.image(), { mode: 0o600 });
    return await runQemu(options.binary, payloadArgv(payload, file, options), options);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function runQemu(binary: string, args: string[], options: RunPayloadOptions): Promise<PayloadRun> {
  const started = performance.now();
  // Loaded on first use: execa costs start-up time every `qlaunch run` would pay.
  const { execa } = await import('execa');
  const subprocess = execa(binary, args, { reject: false, stdin: 'ignore' });
  let killed: PayloadRun['killed'];
  const stop = (why: NonNullable<PayloadRun['killed']>) => {
    killed = why;
    // A vCPU stuck in a broken KVM ignores gentler requests.
    subprocess.kill('SIGKILL');
  };
  let timer = setTimeout(() => stop('startup'), options.startupMs ?? DEFAULT_STARTUP_MS);
  subprocess.stdout.once('data', () => {
    clearTimeout(timer);
    timer = setTimeout(() => stop('deadline'), options.deadlineMs ?? DEFAULT_DEADLINE_MS);
  });
  const result = await subprocess;
  clearTimeout(timer);
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    killed,
    elapsedMs: Math.round(performance.now() - started),
  };
}
