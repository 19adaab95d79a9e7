import { join } from 'node:path';
import t from 'tap';
import { nextPollDelay } from '../../lib/qga/exec.js';
import {
  GuestAgent,
  type GuestAgentConnectOptions,
  POLL_FIRST_MS,
  POLL_MAX_MS,
} from '../../lib/qga/index.js';
import { shortTempDir } from '../fixtures/guests.js';
import { errorTo, type FakeAgentHandler, type Json, replyTo, startFakeAgent } from './fake-agent.js';

const dir = shortTempDir(t);
let count = 0;

const b64 = (text: string) => Buffer.from(text).toString('base64');

interface Program {
  /** How many status polls answer `exited: false` before the final status. */
  polls?: number;
  final?: Json;
}

/** A fake agent that runs "programs": guest-exec answers pid 42, status polls finish after `polls`. */
const execAgent = async (
  t: { teardown(fn: () => unknown): void },
  program: Program = {},
  client: GuestAgentConnectOptions = {},
  extra?: FakeAgentHandler,
) => {
  const statusTimes: number[] = [];
  const handler: FakeAgentHandler = (request, conn) => {
    if (extra?.(request, conn)) return true;
    if (request['execute'] === 'guest-exec') {
      conn.send(replyTo(request, { pid: 42 }));
      return true;
    }
    if (request['execute'] === 'guest-exec-status') {
      statusTimes.push(Date.now());
      const done = statusTimes.length > (program.polls ?? 0);
      conn.send(
        replyTo(request, done ? (program.final ?? { exited: true, exitcode: 0 }) : { exited: false }),
      );
      return true;
    }
    return false;
  };
  const fake = await startFakeAgent(join(dir, `x${count++}.sock`), { handler });
  const agent = await GuestAgent.connect(fake.path, { timeout: 5000, ...client });
  t.teardown(async () => {
    await agent.close();
    await fake.close();
  });
  const conn = await fake.nextConnection();
  const requests = (name: string) => conn.received.filter((r) => r['execute'] === name);
  return { agent, conn, statusTimes, requests };
};

t.test('exec polls guest-exec-status with a backoff until the program exited', async (t) => {
  const { agent, statusTimes, requests } = await execAgent(t, {
    polls: 5,
    final: { exited: true, exitcode: 3, 'out-data': b64('out\n'), 'err-data': b64('err\n') },
  });
  const result = await agent.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.same(result, {
    pid: 42,
    exitCode: 3,
    stdout: Buffer.from('out\n'),
    stderr: Buffer.from('err\n'),
    truncated: false,
  });
  t.same(requests('guest-exec')[0]!['arguments'], {
    path: '/bin/sh',
    arg: ['-c', 'echo out; echo err >&2; exit 3'],
    'capture-output': true,
  });
  t.equal(statusTimes.length, 6);
  t.ok(requests('guest-exec-status').every((r) => (r['arguments'] as Json)['pid'] === 42));
  const gaps = statusTimes.slice(1).map((time, i) => time - statusTimes[i]!);
  t.ok(gaps[4]! >= 80, `the pause grows: ${gaps.join(', ')} ms`);
});

t.test('the backoff doubles from 10 ms and stops at 200 ms', async (t) => {
  const delays = [POLL_FIRST_MS];
  while (delays.length < 8) delays.push(nextPollDelay(delays.at(-1)!));
  t.same(delays, [10, 20, 40, 80, 160, 200, 200, 200]);
  t.equal(POLL_MAX_MS, 200);
});

t.test('input and env travel as given; truncation and signals come back', async (t) => {
  const { agent, requests } = await execAgent(t, {
    final: { exited: true, signal: 15, 'out-data': b64('partial'), 'out-truncated': true },
  });
  const result = await agent.exec(['/bin/cat'], { input: Buffer.from('data\n'), env: ['LANG=C'] });
  t.match(result, { exitCode: 143, signal: 15, truncated: true });
  t.equal(result.stdout.toString(), 'partial');
  t.same(requests('guest-exec')[0]!['arguments'], {
    path: '/bin/cat',
    arg: [],
    env: ['LANG=C'],
    'input-data': b64('data\n'),
    'capture-output': true,
  });
});

t.test('a program the agent cannot start: QGA_EXECUTE naming it, with a hint', async (t) => {
  const { agent } = await execAgent(t, {}, {}, (request, conn) => {
    if (request['execute'] !== 'guest-exec') return false;
    const path = (request['arguments'] as Json)['path'];
    if (path === '/blocked')
      conn.send(errorTo(request, 'CommandNotFound', 'Command guest-exec has been disabled'));
    else {
      const desc = `Guest agent command failed, error was 'Failed to execute child process “${path}” (No such file or directory)'`;
      conn.send(errorTo(request, 'GenericError', desc));
    }
    return true;
  });
  await t.rejects(agent.exec(['/usr/bin/nope', '--flag']), {
    code: 'QGA_EXECUTE',
    command: 'guest-exec',
    errorClass: 'GenericError',
    message: /^the guest agent could not run \/usr\/bin\/nope --flag: .*No such file or directory/,
    hint: /argv\[0\] must be the path of a program in the guest/,
  });
  await t.rejects(agent.exec(['/blocked']), { code: 'QGA_EXECUTE', hint: /--allow-rpcs/ });
});

t.test('bad argv is QGA_ARGUMENT and nothing is sent', async (t) => {
  const { agent, requests } = await execAgent(t);
  await t.rejects(agent.exec([]), { code: 'QGA_ARGUMENT' });
  await t.rejects(agent.exec(['/bin/true'], { timeout: 0 }), { code: 'QGA_ARGUMENT', message: /`timeout`/ });
  await t.rejects(agent.exec(['/bin/true'], { signal: 1 as never }), { code: 'QGA_ARGUMENT' });
  t.equal(requests('guest-exec').length, 0);
});

t.test('exec timeout: QGA_TIMEOUT saying the program keeps running as its pid', async (t) => {
  const { agent } = await execAgent(t, { polls: 1_000_000 });
  const started = Date.now();
  await t.rejects(agent.exec(['/bin/sleep', '100'], { timeout: 300 }), {
    code: 'QGA_TIMEOUT',
    message: '/bin/sleep 100 did not finish within 300 ms; it keeps running in the guest as pid 42',
  });
  t.ok(Date.now() - started < 1500);
  await agent.ping();
});

t.test('exec timeout while a status poll is unanswered: still the run timeout', async (t) => {
  let polls = 0;
  const { agent } = await execAgent(
    t,
    { polls: 1_000_000 },
    {},
    (request) => request['execute'] === 'guest-exec-status' && ++polls > 1, // the second poll hangs
  );
  await t.rejects(agent.exec(['/bin/sleep', '100'], { timeout: 300 }), {
    code: 'QGA_TIMEOUT',
    message: /did not finish within 300 ms; it keeps running in the guest as pid 42/,
  });
});

t.test('a status poll over the command timeout: QGA_TIMEOUT for that command', async (t) => {
  const { agent } = await execAgent(
    t,
    {},
    { commandTimeout: 100 },
    (request) => request['execute'] === 'guest-exec-status',
  );
  await t.rejects(agent.exec(['/bin/true']), {
    code: 'QGA_TIMEOUT',
    message: /guest agent command guest-exec-status: no answer .* within 100 ms/,
  });
});

t.test('exec abort, while polling or before: QGA_ABORTED', async (t) => {
  const { agent } = await execAgent(t, { polls: 1_000_000 });
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('stop')), 100);
  await t.rejects(agent.exec(['/bin/sleep', '100'], { signal: controller.signal }), {
    code: 'QGA_ABORTED',
    message: '/bin/sleep 100 was aborted; it keeps running in the guest as pid 42',
  });
  await t.rejects(agent.exec(['/bin/true'], { signal: AbortSignal.abort() }), {
    code: 'QGA_ABORTED',
    message: '/bin/true was aborted',
  });
});

t.test('malformed exec replies are QGA_PROTOCOL', async (t) => {
  let started = 0;
  const { agent } = await execAgent(t, {}, {}, (request, conn) => {
    if (request['execute'] === 'guest-exec' && started++ === 0) {
      conn.send(replyTo(request, { pid: 'x' }));
      return true;
    }
    if (request['execute'] === 'guest-exec-status') {
      conn.send(replyTo(request, { exited: 'yes' }));
      return true;
    }
    return false;
  });
  await t.rejects(agent.exec(['/bin/true']), {
    code: 'QGA_PROTOCOL',
    message: /guest-exec reply has no integer pid/,
  });
  await t.rejects(agent.exec(['/bin/true']), { code: 'QGA_PROTOCOL', message: /"exited" is not a boolean/ });
});

t.test('two execs at once interleave their polls and each gets its own result', async (t) => {
  let pid = 100;
  const finishedAfter = new Map<number, number>();
  const { agent } = await execAgent(t, {}, {}, (request, conn) => {
    const args = request['arguments'] as Json;
    if (request['execute'] === 'guest-exec') {
      finishedAfter.set(++pid, pid === 101 ? 4 : 1);
      conn.send(replyTo(request, { pid }));
      return true;
    }
    if (request['execute'] === 'guest-exec-status') {
      const p = args['pid'] as number;
      const left = finishedAfter.get(p)! - 1;
      finishedAfter.set(p, left);
      conn.send(
        replyTo(
          request,
          left > 0 ? { exited: false } : { exited: true, exitcode: 0, 'out-data': b64(`pid ${p}`) },
        ),
      );
      return true;
    }
    return false;
  });
  const [a, b] = await Promise.all([agent.exec(['/bin/a']), agent.exec(['/bin/b'])]);
  t.equal(a.stdout.toString(), 'pid 101');
  t.equal(b.stdout.toString(), 'pid 102');
});
