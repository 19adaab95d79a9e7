import t from 'tap';
import { execResult, parseExecStatus } from '../../lib/qga/exec-status.js';

t.test('a finished status decodes its base64 output', async (t) => {
  const status = parseExecStatus(
    { exited: true, exitcode: 3, 'out-data': 'b3V0Cg==', 'err-data': 'ZXJyCg==', 'out-truncated': false },
    12,
  );
  const result = execResult(12, status);
  t.same(result, {
    pid: 12,
    exitCode: 3,
    stdout: Buffer.from('out\n'),
    stderr: Buffer.from('err\n'),
    truncated: false,
  });
  t.notOk('signal' in result);
});

t.test('missing output is empty; a signal reads as 128 + n, as a shell says', async (t) => {
  const result = execResult(5, parseExecStatus({ exited: true, signal: 9 }, 5));
  t.equal(result.exitCode, 137);
  t.equal(result.signal, 9);
  t.equal(result.stdout.length, 0);
  t.equal(result.stderr.length, 0);
});

t.test('either truncation flag marks the result truncated', async (t) => {
  t.equal(execResult(1, { exited: true, exitcode: 0, 'err-truncated': true }).truncated, true);
  t.equal(execResult(1, { exited: true, exitcode: 0, 'out-truncated': true }).truncated, true);
  t.equal(execResult(1, { exited: true, exitcode: 0 }).truncated, false);
});

t.test('a running status passes with just exited: false', async (t) => {
  t.same(parseExecStatus({ exited: false }, 1), { exited: false });
});

t.test('malformed statuses are QGA_PROTOCOL naming the member', async (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [[], /not an object/],
    [{}, /"exited" is not a boolean/],
    [{ exited: true }, /without "exitcode" or "signal"/],
    [{ exited: true, exitcode: '0' }, /"exitcode" is not an integer/],
    [{ exited: true, signal: 1.5 }, /"signal" is not an integer/],
    [{ exited: true, exitcode: 0, 'out-data': 'not base64!' }, /"out-data" is not base64/],
    [{ exited: true, exitcode: 0, 'err-data': 5 }, /"err-data" is not base64/],
    [{ exited: true, exitcode: 0, 'out-truncated': 'yes' }, /"out-truncated" is not a boolean/],
  ];
  for (const [value, message] of bad) {
    t.throws(() => parseExecStatus(value, 77), { code: 'QGA_PROTOCOL', message });
  }
  t.throws(() => parseExecStatus({}, 77), { message: /pid 77/ });
});
