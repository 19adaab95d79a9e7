import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { OutputTail, runTool } from '../../lib/image/tool-run.js';

const base = (cwd: string, lines: string[] = []) => ({
  cwd,
  env: process.env,
  onLine: (line: string) => lines.push(line),
  step: 'the test step',
  hint: 'fix the test',
});

/** Whether `pid` has died within a second (a zombie counts: its reaping is its new parent's business). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

t.test('lines from stdout and stderr become progress, in the tool cwd', async (t) => {
  const dir = t.testdir();
  const lines: string[] = [];
  await runTool(
    { file: 'sh', args: ['-c', 'echo one; echo two >&2; printf "three\\r\\nfour"; pwd > here'] },
    base(dir, lines),
  );
  t.same(lines.sort(), ['four', 'one', 'three', 'two']);
  t.equal((await readFile(join(dir, 'here'), 'utf8')).trim(), dir);
});

t.test('a failing tool: IMAGE_BUILD_FAILED with its last output and the step hint', async (t) => {
  const dir = t.testdir();
  await t.rejects(
    runTool({ file: 'sh', args: ['-c', 'for i in $(seq 1 40); do echo line $i; done; exit 3'] }, base(dir)),
    {
      code: 'IMAGE_BUILD_FAILED',
      message: /^the test step failed: sh exited with status 3; its last output:\nline 16\n(.|\n)*line 40$/,
      hint: 'fix the test',
    },
  );
  await t.rejects(runTool({ file: 'sh', args: ['-c', 'kill -KILL $$'] }, base(dir)), {
    code: 'IMAGE_BUILD_FAILED',
    message: /sh was killed by SIGKILL$/,
  });
});

t.test('a missing tool is HOST_TOOL_MISSING', async (t) => {
  await t.rejects(runTool({ file: 'qlaunch-no-such-tool', args: [] }, base(t.testdir())), {
    code: 'HOST_TOOL_MISSING',
    message: /qlaunch-no-such-tool is not installed \(the test step\)/,
  });
});

t.test('abort kills the whole process group, also what ignores SIGTERM, and says so', async (t) => {
  const dir = t.testdir();
  const controller = new AbortController();
  const lines: string[] = [];
  const options = {
    ...base(dir, lines),
    signal: controller.signal,
    killGraceMs: 300,
    onLine: (line: string) => {
      lines.push(line);
      if (line.startsWith('child ')) controller.abort();
    },
  };
  // The parent ignores SIGTERM (as mmdebstrap's does); its child is what must be reached.
  const script = "trap '' TERM; sleep 60 & echo child $!; wait; sleep 60";
  await t.rejects(runTool({ file: 'sh', args: ['-c', script] }, options), { code: 'IMAGE_BUILD_ABORTED' });
  const child = Number(lines.find((l) => l.startsWith('child '))?.slice(6));
  t.ok(await gone(child), 'the background child is gone');
  await t.rejects(
    runTool({ file: 'true', args: [] }, options),
    { code: 'IMAGE_BUILD_ABORTED' },
    'already aborted',
  );
});

t.test('OutputTail keeps the last lines', async (t) => {
  const tail = new OutputTail(2);
  for (const line of ['a', 'b', 'c']) tail.push(line);
  t.equal(tail.toString(), 'b\nc');
});
