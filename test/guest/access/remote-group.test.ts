// The scripts that let a command run over SSH be ended in the guest, run here by the host's POSIX sh (dash on
// Debian), as the guest's sh runs them: the run records its process group, the killer ends all of it.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import t from 'tap';
import {
  killRecordedRun,
  recordedRun,
  runToken,
  StartedLine,
} from '../../../lib/guest/access/remote-group.js';

const run = (argv: string[]) => execa(argv[0] ?? 'sh', argv.slice(1), { reject: false });

/** The processes whose command line matches `pattern`, as pgrep -f lists them. */
const matching = async (pattern: string) =>
  (await execa('pgrep', ['-f', pattern], { reject: false })).stdout.trim();

t.test('a run passes its exit code and output through, says it started, and leaves no record', async (t) => {
  const token = runToken();
  t.match(token, /^[0-9a-f]{32}$/);
  const result = await run(
    recordedRun(token, ['sh', '-c', 'echo "$1"; echo err >&2; exit 3', 'sh', "it's $HOME"]),
  );
  t.equal(result.exitCode, 3);
  t.equal(result.stdout, "it's $HOME");
  t.equal(result.stderr, `qlaunch-run:${token}\nerr`);
  t.notOk(existsSync(`/tmp/qlaunch-exec-${token}.pgid`));
});

t.test('the killer ends the command and what it started, and removes the record', async (t) => {
  const token = runToken();
  // Durations unique to this run (sleep takes fractions), so pgrep finds only these.
  const unique = Number.parseInt(token.slice(0, 8), 16);
  const child = `sleep 1000.${unique}`;
  const command = `sleep 1001.${unique}`;
  // setsid: a session and group of its own, as sshd gives each session.
  const running = run(['setsid', ...recordedRun(token, ['sh', '-c', `${child} & ${command}`])]);
  for (let i = 0; i < 50 && !(await matching(command)); i++) await new Promise((r) => setTimeout(r, 100));
  t.ok(await matching(child), 'the background child runs');
  t.equal((await run(killRecordedRun(token, true))).exitCode, 0);
  t.equal(await matching(child), '', 'the background child is gone');
  t.equal(await matching(command), '', 'the command is gone');
  t.equal((await running).signal, 'SIGTERM', 'the run died of SIGTERM');
  t.notOk(existsSync(`/tmp/qlaunch-exec-${token}.pgid`));
});

t.test('a killer that comes first keeps the run from starting', async (t) => {
  const token = runToken();
  t.equal((await run(killRecordedRun(token, false))).exitCode, 0);
  const late = await run(recordedRun(token, ['echo', 'ran']));
  t.equal(late.stdout, '', 'the command never ran');
  t.not(late.exitCode, 0);
  t.notOk(existsSync(`/tmp/qlaunch-exec-${token}.pgid`), 'the tombstone is gone');
  t.equal((await run(killRecordedRun(runToken(), true))).exitCode, 0, 'nothing to end: nothing done');
});

t.test('a record that cannot be made: the command still runs, unrecorded and unannounced', async (t) => {
  const token = runToken();
  const record = `/tmp/qlaunch-exec-${token}.pgid`;
  mkdirSync(record); // a directory where the record goes, as a full or read-only /tmp refuses the file
  t.teardown(() => rmSync(record, { recursive: true, force: true }));
  const result = await run(recordedRun(token, ['sh', '-c', 'echo ran; exit 5']));
  t.equal(result.stdout, 'ran');
  t.equal(result.exitCode, 5);
  t.equal(result.stderr, '', 'no started line: there is nothing the host could end');
});

t.test('StartedLine strips the line, even split across chunks, and nothing else', async (t) => {
  const token = runToken();
  const line = Buffer.from(`qlaunch-run:${token}\n`);
  const split = new StartedLine(token);
  t.same(split.take(line.subarray(0, 5)), Buffer.alloc(0));
  t.same(split.take(Buffer.concat([line.subarray(5), Buffer.from('err')])), Buffer.from('err'));
  t.ok(split.seen);
  t.same(split.take(line), line, 'only at the start');
  const other = new StartedLine(token);
  t.same(other.take(Buffer.from('qlaunch-r')), Buffer.alloc(0));
  t.same(other.take(Buffer.from('oops')), Buffer.from('qlaunch-roops'));
  t.notOk(other.seen);
  const cut = new StartedLine(token);
  cut.take(Buffer.from('qlaunch'));
  t.same(cut.rest(), Buffer.from('qlaunch'), 'a prefix at the end is handed back');
});
