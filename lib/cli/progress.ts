// Transfer progress on stderr: a bar redrawn in place on a terminal, a plain line every tenth of the way otherwise
// (and on a dumb terminal, which cannot erase a line).

import { formatBytes } from '../bytes.js';
import { printable } from './printable.js';

export interface ProgressState {
  done: number;
  /** Undefined when the size is not known (no Content-Length). */
  total: number | undefined;
  elapsedMs: number;
  /** Set while nothing has arrived for a while: the line says so instead of an average that hides it. */
  stalledMs?: number | undefined;
}

const BAR_WIDTH = 24;

/** One progress line: label, percentage and bar when the total is known, bytes so far, rate or stall. Pure. */
export function progressLine(label: string, state: ProgressState, bar = true): string {
  const rate =
    state.stalledMs !== undefined
      ? `stalled ${Math.floor(state.stalledMs / 1000)} s`
      : state.elapsedMs > 0
        ? `${formatBytes((state.done * 1000) / state.elapsedMs)}/s`
        : '';
  const parts = [printable(label)];
  if (state.total !== undefined && state.total > 0) {
    const fraction = Math.min(1, state.done / state.total);
    parts.push(`${Math.floor(fraction * 100)}%`.padStart(4));
    if (bar) {
      const filled = Math.round(fraction * BAR_WIDTH);
      parts.push(`[${'='.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}]`);
    }
    parts.push(`${formatBytes(state.done)} / ${formatBytes(state.total)}`);
  } else {
    parts.push(formatBytes(state.done));
  }
  if (rate) parts.push(rate);
  return parts.join('  ');
}

export interface ProgressReporter {
  /** `stalledMs` while nothing arrives (the line shows the stall), undefined when bytes flow. */
  update(done: number, total: number | undefined, stalledMs?: number): void;
  /** Ends the display with the last state on its own line; nothing when nothing was shown. */
  finish(): void;
}

const REDRAW_MS = 100;
// Without a total, a plain line every this many bytes.
const PLAIN_STEP_BYTES = 256 * 1024 * 1024;
// A log needs no progress lines for what is over in a second: the final line says it all.
const PLAIN_QUIET_MS = 1000;

/**
 * Progress for `label` on `stream`: redrawn at most ten times a second on a TTY (unless $TERM is dumb); otherwise a
 * line per tenth of the way (none in the first second) and a final line.
 */
export function progressReporter(
  label: string,
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
  now: () => number = Date.now,
  env: NodeJS.ProcessEnv = process.env,
): ProgressReporter {
  const started = now();
  const tty = stream.isTTY === true && env.TERM !== 'dumb';
  let last: ProgressState = { done: 0, total: undefined, elapsedMs: 0 };
  let drawnAt = Number.NEGATIVE_INFINITY;
  let step = -1;
  let finished = false;
  let updated = false;
  let stallLogged = false;
  const draw = () => stream.write(`\r${progressLine(label, last)}\x1b[K`);
  return {
    update(done, total, stalledMs) {
      updated = true;
      last = { done, total, elapsedMs: now() - started, stalledMs };
      if (stalledMs !== undefined && !tty) {
        // A log gets one line when a stall starts, not one a second while it lasts.
        if (!stallLogged) stream.write(`${progressLine(label, last, false)}\n`);
        stallLogged = true;
        return;
      }
      stallLogged = false;
      if (tty) {
        if (now() - drawnAt < REDRAW_MS) return;
        drawnAt = now();
        draw();
        return;
      }
      if (last.elapsedMs < PLAIN_QUIET_MS) return;
      const reached = total ? Math.floor((done / total) * 10) : Math.floor(done / PLAIN_STEP_BYTES);
      if (reached <= step) return;
      step = reached;
      stream.write(`${progressLine(label, last, false)}\n`);
    },
    finish() {
      if (finished || !updated) return;
      finished = true;
      if (tty) {
        draw();
        stream.write('\n');
      } else if (last.total === undefined || step < 10) {
        stream.write(`${progressLine(label, last, false)}\n`);
      }
    },
  };
}
