// What a test harness relies on from one real Debian guest: a command that times out or is aborted is ended in the
// guest too, binary output comes back byte for byte, and a chatty console nobody reads stays within its cap.
import { createHash } from 'node:crypto';
import t from 'tap';
import { ErrorCode } from '../../lib/errors.js';
import { SerialConsole } from '../../lib/guest/console/serial.js';
import { launch } from '../../lib/guest/launch.js';
import { shortTempDir, testHome, useEnv } from '../fixtures/guests.js';

t.setTimeout(1_500_000);

t.test('a Debian guest: ended commands, bytes intact, a bounded console stream', async (t) => {
  const home = await testHome();
  useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: shortTempDir(t) });
  const vm = await launch({ image: 'debian-12-local', cpus: 2, accel: 'tcg' }, { readyTimeout: 600_000 });
  t.teardown(() => vm.kill());

  /** The guest's processes whose whole command line is `command` (anchored: the pgrep's own shell is not one). */
  const running = async (command: string) =>
    (await vm.ssh.exec(['pgrep', '-af', `^${command}$`])).stdout.trim();

  await t.test('a timed-out command is ended in the guest, with what it started', async (t) => {
    await t.rejects(vm.ssh.exec(['sh', '-c', 'sleep 1000 & sleep 1001'], { timeout: 3000 }), {
      code: ErrorCode.VM_TIMEOUT,
      message: /did not finish within 3000 ms/,
    });
    t.equal(await running('sleep 1001'), '', 'the command is gone');
    t.equal(await running('sleep 1000'), '', 'its background child is gone');
  });

  await t.test('an aborted command is ended in the guest', async (t) => {
    const aborting = new AbortController();
    const pending = vm.ssh.exec(['sleep', '1002'], { signal: aborting.signal });
    // Aborted once the guest runs it, so the end is the guest's doing, not a connection never made.
    for (let i = 0; i < 100 && (await running('sleep 1002')) === ''; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    t.not(await running('sleep 1002'), '', 'it ran');
    aborting.abort();
    await t.rejects(pending, { code: ErrorCode.VM_ABORTED });
    t.equal(await running('sleep 1002'), '', 'it is gone');
    // Records hold a process group, tombstones `gone` (readiness probes that timed out leave those for a minute).
    // No group is left: the ended runs' records went with them, and this `cat` (no timeout, no signal) makes none.
    const left = await vm.ssh.exec(['sh', '-c', 'cat /tmp/qlaunch-exec-*.pgid']);
    const groups = left.stdout.split('\n').filter((line) => /^\d+$/.test(line));
    t.equal(groups.length, 0, `no run records left in the guest: ${JSON.stringify(left.stdout)}`);
  });

  await t.test('encoding buffer: all 256 byte values, exactly, on stdout and stderr', async (t) => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const octal = [...all].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
    const chunks: Buffer[] = [];
    const result = await vm.ssh.exec(
      ['sh', '-c', `printf '${octal}' | tee /tmp/bytes.bin; printf '\\377\\376\\000' >&2`],
      { encoding: 'buffer', stdout: (chunk) => chunks.push(chunk) },
    );
    t.equal(result.exitCode, 0);
    t.ok(Buffer.isBuffer(result.stdout), 'stdout is a Buffer');
    t.same(result.stdout, all, 'the bytes as the guest wrote them');
    t.same(result.stderr, Buffer.from([0xff, 0xfe, 0x00]), 'stderr too');
    t.same(Buffer.concat(chunks), all, 'a function sink gets the bytes');
    const guestSum = (await vm.ssh.exec(['sha256sum', '/tmp/bytes.bin'])).stdout.split(' ')[0];
    t.equal(createHash('sha256').update(result.stdout).digest('hex'), guestSum, "the guest's own sha256");
    t.equal((await vm.ssh.exec(['printf', 'text'])).stdout, 'text', 'text stays the default');
  });

  await t.test('a chatty guest console nobody reads: the stream holds at most the cap', async (t) => {
    // The UART moves ~11 KB/s under TCG (115200 baud), too slow to pass the 4 MiB default in a test: the real
    // console's output goes into a console with a 16 KiB cap, whose stream nobody reads.
    const cap = 16 * 1024;
    const small = new SerialConsole({ history: cap });
    const feed = (chunk: Buffer) => small.push(chunk);
    vm.console.stream.on('data', feed);
    t.teardown(() => vm.console.stream.off('data', feed));
    const stream = small.stream as unknown as Record<string, number | undefined>;
    /** Bytes the stream holds for a reader (a plain PassThrough holds them in its two buffers). */
    const held = () =>
      stream['buffered'] ?? (stream['readableLength'] ?? 0) + (stream['writableLength'] ?? 0);
    const flood = await vm.ssh.exec(
      [
        'sudo',
        'sh',
        '-c',
        'for i in $(seq 8000); do echo "qlaunch console flood line $i"; done > /dev/ttyS0; echo flood-done > /dev/ttyS0',
      ],
      { timeout: 600_000 },
    );
    t.equal(flood.exitCode, 0, flood.stderr);
    await small.waitFor('flood-done', { timeout: 300_000 });
    t.ok(small.length > 8 * cap, `the console saw ${small.length} characters, over 8 times the cap`);
    t.ok(held() <= cap, `the unread stream holds ${held()} bytes, within ${cap}`);
    t.ok((stream['dropped'] ?? 0) > 0, 'the oldest unread bytes were dropped');
    small.end();
    const chunks: Buffer[] = [];
    for await (const chunk of small.stream) chunks.push(Buffer.from(chunk as Buffer));
    const read = Buffer.concat(chunks).toString();
    t.match(read, /^\n-- qlaunch: \d+ bytes of console output dropped here: the stream was not read --\n/);
    t.match(read, /qlaunch console flood line 8000\r?\n[\s\S]*flood-done/, 'the newest output is kept');
  });
});
