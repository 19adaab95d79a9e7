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

/** Everything a reader gets from `stream` until it ends. */
async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

t.test('an unread stream holds at most the cap: the oldest bytes go, and a line marks the gap', async (t) => {
  const cap = 4 * 1024 * 1024;
  const serial = new SerialConsole();
  const chunk = Buffer.alloc(64 * 1024, 'x');
  // 20 MiB from a chatty guest with nobody reading, then the newest line.
  for (let i = 0; i < 320; i++) serial.push(chunk);
  serial.push(Buffer.from('newest line\n'));
  serial.end();
  const read = await readAll(serial.stream);
  const gap = /\n-- qlaunch: (\d+) bytes of console output dropped here: the stream was not read --\n/.exec(
    read.toString('latin1'),
  );
  t.ok(gap, 'a gap line says output was dropped');
  const gapLength = gap?.[0].length ?? 0;
  t.ok(
    read.length - gapLength <= cap,
    `the reader got ${read.length - gapLength} bytes of output, within ${cap}`,
  );
  t.equal(
    read.length - gapLength + Number(gap?.[1]),
    320 * chunk.length + 12,
    'dropped + kept = all written',
  );
  t.equal(read.subarray(-12).toString(), 'newest line\n', 'the newest output is kept');
  t.equal(gap?.index, 0, 'the gap is where the dropped bytes were: before the oldest kept');
});

t.test('a stream read as it comes loses nothing and has no gap line', async (t) => {
  const serial = new SerialConsole({ history: 1024 });
  const reading = readAll(serial.stream);
  const sent: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    const chunk = Buffer.from(`line ${i} ${'y'.repeat(100)}\n`);
    sent.push(chunk);
    serial.push(chunk);
    await new Promise((r) => setImmediate(r));
  }
  serial.end();
  t.same(await reading, Buffer.concat(sent), '20 times the cap, all of it, in order');
  t.equal(serial.stream.dropped, 0);
});

t.test('buffered and dropped count what waits for a reader and what was let go', async (t) => {
  const serial = new SerialConsole({ history: 100 });
  serial.push(Buffer.alloc(60, 'a'));
  t.equal(serial.stream.buffered, 60);
  serial.push(Buffer.alloc(60, 'b'));
  t.equal(serial.stream.buffered, 100);
  t.equal(serial.stream.dropped, 20);
  serial.end();
  const read = (await readAll(serial.stream)).toString();
  t.equal(
    read,
    `\n-- qlaunch: 20 bytes of console output dropped here: the stream was not read --\n${'a'.repeat(40)}${'b'.repeat(60)}`,
  );
});
