// Running one build tool (mmdebstrap, mkfs, …): its output as progress lines, its failure as a QlaunchError, abortable.

import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { ErrorCode, QlaunchError } from '../errors.js';
import type { Command } from './debian-argv.js';

export interface ToolRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Every line the tool prints, stdout and stderr alike. */
  onLine: (line: string) => void;
  signal?: AbortSignal | undefined;
  /** What the step is, for the error message: "mmdebstrap (the image root)". */
  step: string;
  /** How to fix a failure of this step. */
  hint: string;
  /** How long the tool gets to exit after SIGTERM before SIGKILL. */
  killGraceMs?: number;
}

const TAIL_LINES = 25;

/** The last lines of output, for an error message. */
export class OutputTail {
  readonly #lines: string[] = [];
  constructor(readonly size = TAIL_LINES) {}
  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.size) this.#lines.shift();
  }
  toString(): string {
    return this.#lines.join('\n');
  }
}

export const abortedError = (step: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_BUILD_ABORTED, `image build aborted during ${step}`, {
    hint: 'run the build again; nothing half-made was kept',
  });

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid: the whole process group, so mmdebstrap's forked workers (apt, dpkg) go too.
    process.kill(-pid, signal);
  } catch {}
}

/**
 * Runs `command` in its own process group and resolves when it succeeded. Aborting sends SIGTERM to the
 * group (mmdebstrap's setup process then undoes its mounts), SIGKILL after a grace period.
 */
export async function runTool(command: Command, options: ToolRunOptions): Promise<void> {
  if (options.signal?.aborted) throw abortedError(options.step);
  const { execa } = await import('execa');
  const child = execa(command.file, command.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    detached: true,
  });
  const tail = new OutputTail();
  const read = (stream: Readable | null): Promise<void> => {
    if (!stream) return Promise.resolve();
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      tail.push(line);
      options.onLine(line);
    });
    return new Promise((resolve) => lines.once('close', resolve));
  };
  let aborted = false;
  let forceKill: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    if (child.pid === undefined) return;
    aborted = true;
    const pid = child.pid;
    killGroup(pid, 'SIGTERM');
    forceKill = setTimeout(() => killGroup(pid, 'SIGKILL'), options.killGraceMs ?? 10_000);
  };
  // Our own exit must not leave a detached build running.
  const onExit = (): void => {
    if (child.pid !== undefined) killGroup(child.pid, 'SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  process.once('exit', onExit);
  try {
    const [result] = await Promise.all([child, read(child.stdout), read(child.stderr)]);
    if (aborted) throw abortedError(options.step);
    if (result.failed) {
      const missing = (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
      if (missing) {
        throw new QlaunchError(
          ErrorCode.HOST_TOOL_MISSING,
          `${command.file} is not installed (${options.step})`,
          {
            hint: options.hint,
          },
        );
      }
      const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
      const output = tail.toString();
      throw new QlaunchError(
        ErrorCode.IMAGE_BUILD_FAILED,
        `${options.step} failed: ${command.file} ${how}${output ? `; its last output:\n${output}` : ''}`,
        { hint: options.hint },
      );
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', onExit);
    if (forceKill) clearTimeout(forceKill);
  }
}
