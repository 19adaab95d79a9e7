import t from 'tap';
import { ErrorCode, QlaunchError } from '../../../lib/errors.js';
import { lastLines, SerialConsole } from '../../../lib/guest/console/serial.js';

t.test('a pattern split across chunks is found, and earlier output counts', async (t) => {
  const serial = new SerialConsole();
  serial.push(Buffer.from('booting...\nQLAUNCH-TI'));
  const pending = serial.waitFor('QLAUNCH-TINY-READY', { timeout: 1000 });
  serial.push(Buffer.from('NY-READY\n'));
  const match = await pending;
  t.equal(match.text, 'QLAUNCH-TINY-READY');
  t.equal(match.end, serial.text().indexOf('READY') + 5);
  const again = await serial.waitFor(/booting/);
  t.equal(again.text, 'booting', 'text already seen matches at once');
});

t.test('since skips what was already consumed; regex groups come back', async (t) => {
  const serial = new SerialConsole();
  serial.push(Buffer.from('ip 10.0.2.15\n'));
  const cursor = serial.length;
  const pending = serial.waitFor(/ip (\S+)/, { since: cursor, timeout: 1000 });
  serial.push(Buffer.from('ip 10.0.2.16\n'));
  t.same((await pending).groups, ['10.0.2.16']);
});

t.test('literal strings are not regexes', async (t) => {
  const serial = new SerialConsole();
  serial.push(Buffer.from('a+b (c)\n'));
  t.equal((await serial.waitFor('a+b (c)')).text, 'a+b (c)');
});

t.test('timeouts name the pattern and show the last lines', async (t) => {
  const serial = new SerialConsole();
  serial.push(Buffer.from('line one\nline two\n'));
  await t.rejects(serial.waitFor('never', { timeout: 20 }), {
    code: ErrorCode.VM_TIMEOUT,
    message: /did not show \/never\/ within 20 ms[\s\S]*line two/,
  });
});

t.test('abort signals stop a wait', async (t) => {
  const serial = new SerialConsole();
  const controller = new AbortController();
  const pending = serial.waitFor('x', { signal: controller.signal });
  controller.abort();
  await t.rejects(pending, /aborted/);
  await t.rejects(serial.waitFor('x', { signal: AbortSignal.abort() }), /aborted/);
});

t.test('end() fails pending and later waits with the reason; the stream ends', async (t) => {
  const serial = new SerialConsole();
  const pending = serial.waitFor('x');
  let ended = false;
  serial.stream.on('end', () => {
    ended = true;
  });
  serial.stream.resume();
  serial.end(new QlaunchError(ErrorCode.VM_EXITED, 'QEMU was killed by SIGKILL'));
  await t.rejects(pending, { message: 'QEMU was killed by SIGKILL' });
  await t.rejects(serial.waitFor('y'), { code: ErrorCode.VM_EXITED });
  serial.end();
  await new Promise((r) => setImmediate(r));
  t.ok(ended);
  const plain = new SerialConsole();
  plain.end();
  await t.rejects(plain.waitFor('z'), { message: /serial console closed/ });
});

t.test('history is capped but cursors stay absolute', async (t) => {
  const serial = new SerialConsole({ history: 16 });
  serial.push(Buffer.from('0123456789'));
  serial.push(Buffer.from('abcdefghij'));
  t.equal(serial.length, 20);
  t.equal(serial.text(), '456789abcdefghij');
  const match = await serial.waitFor('gh', { since: 12 });
  t.equal(match.end, 18);
  serial.push(Buffer.from('tail'));
  t.equal(serial.tail(1), '89abcdefghijtail'.slice(-16));
});

t.test('lastLines keeps the partial last line and drops carriage returns', async (t) => {
  t.equal(lastLines('a\r\nb\r\nc\r\npartial', 2), 'b\nc\npartial');
  t.equal(lastLines('x\n', 5), 'x');
});
