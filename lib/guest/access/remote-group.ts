// A command run over SSH that can be ended in the guest: sshd leaves a command without a terminal running when
// its connection drops, so the command records its process group under a token and a second SSH session kills it.

import { randomBytes } from 'node:crypto';

/** A fresh token naming one run: 128 random bits, hex, so no other run or guest user can guess or share it. */
export const runToken = (): string => randomBytes(16).toString('hex');

// Both scripts take the token as $1; the file is created with noclobber (O_EXCL), so exactly one of them makes it.
const FILE = 't=$1; f=/tmp/qlaunch-exec-$t.pgid';

/**
 * Records the process group (field 5 of /proc/$$/stat), says so on stderr (the started line, which the host
 * strips), runs the command, removes the record. If the killer came first (its tombstone says `gone`), it runs
 * nothing; if the record cannot be made (/tmp full or read-only), the command still runs, unrecorded.
 * A command killed by signal N exits 128+N, as in a shell.
 */
const RUN = [
  `${FILE}; shift`,
  'read -r _ _ _ _ g _ < /proc/$$/stat || g=$$',
  'if (set -C; echo "$g" > "$f") 2>/dev/null; then',
  '  printf \'qlaunch-run:%s\\n\' "$t" >&2',
  'else',
  '  x=; read -r x < "$f" 2>/dev/null || { sleep 0.1; read -r x < "$f" 2>/dev/null; }',
  '  [ "$x" = gone ] && { rm -f "$f"; exit 143; }',
  '  rm -f "$f" 2>/dev/null; f=',
  'fi',
  '"$@"',
  's=$?',
  '[ -z "$f" ] || rm -f "$f"',
  'exit "$s"',
].join('\n');

/**
 * Unless told the command started ($2), leaves a tombstone when it has not started yet; else waits briefly for its
 * record, sends the group SIGTERM, and SIGKILL if it is still there 2 s later. Never a group number below 2:
 * `kill -TERM -1` is everyone.
 */
const KILL = [
  FILE,
  // A tombstone no run comes for goes a minute on: by then no run of that dropped session can still start.
  '[ "$2" = started ] || { (set -C; echo gone > "$f") 2>/dev/null && { (sleep 60; rm -f "$f") >/dev/null 2>&1 & exit 0; }; }',
  'i=0; g=',
  'while [ "$i" -lt 20 ]; do',
  '  read -r g < "$f" 2>/dev/null',
  '  [ -n "$g" ] && break',
  '  [ -e "$f" ] || exit 0',
  '  sleep 0.1; i=$((i + 1))',
  'done',
  'case $g in "" | *[!0-9]*) exit 0 ;; esac',
  '[ "$g" -gt 1 ] || exit 0',
  'kill -TERM -"$g" 2>/dev/null',
  'i=0',
  'while kill -0 -"$g" 2>/dev/null && [ "$i" -lt 20 ]; do sleep 0.1; i=$((i + 1)); done',
  'kill -KILL -"$g" 2>/dev/null',
  'rm -f "$f"',
].join('\n');

/** The line the run writes to stderr once its record is made: the host knows there is something to end. */
const startedLine = (token: string): Buffer => Buffer.from(`qlaunch-run:${token}\n`);

/** Takes the started line off the front of stderr as it streams by, and remembers whether it came. */
export class StartedLine {
  readonly #line: Buffer;
  #held: Buffer | undefined = Buffer.alloc(0);
  seen = false;

  constructor(token: string) {
    this.#line = startedLine(token);
  }

  /** The part of `chunk` that is the command's own stderr. */
  take(chunk: Buffer): Buffer {
    if (this.#held === undefined) return chunk;
    const all = Buffer.concat([this.#held, chunk]);
    const head = all.subarray(0, this.#line.length);
    if (!this.#line.subarray(0, head.length).equals(head)) {
      this.#held = undefined;
      return all;
    }
    if (all.length < this.#line.length) {
      this.#held = all;
      return Buffer.alloc(0);
    }
    this.#held = undefined;
    this.seen = true;
    return all.subarray(this.#line.length);
  }

  /** What was held back at the end of stderr (a prefix of the line that never finished). */
  rest(): Buffer {
    const held = this.#held ?? Buffer.alloc(0);
    this.#held = undefined;
    return held;
  }
}

/** `argv` wrapped so it records its process group under `token` (PURE). */
export const recordedRun = (token: string, argv: readonly string[]): string[] => [
  'sh',
  '-c',
  RUN,
  'qlaunch-exec',
  token,
  ...argv,
];

/**
 * The command that ends the run recorded under `token`, and everything in its process group (PURE); `started`
 * when its started line came, else the run is also kept from starting later.
 */
export const killRecordedRun = (token: string, started: boolean): string[] => [
  'sh',
  '-c',
  KILL,
  'qlaunch-kill',
  token,
  started ? 'started' : 'maybe',
];
