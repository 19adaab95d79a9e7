import { access, chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runPayload } from '../../lib/host/payload-run.js';
import { x86_64Payload } from '../../lib/host/payload-x86_64.js';

// Stand-ins for QEMU, so the deadline logic is tested without booting anything (the real runs are in accel.test.ts).
// Each reports the image it was given (path and size) on stderr, then behaves as `body` says.
async function fakeQemu(dir: string, body: string): Promise<string> {
  const path = join(dir, 'qemu');
  const script = [
    '#!/bin/sh',
    'while [ $# -gt 0 ]; do [ "$1" = -bios ] && image=$2; shift; done',
    'echo "$image $(wc -c < "$image")" >&2',
    body,
  ].join('\n');
  await writeFile(path, `${script}\n`);
  await chmod(path, 0o755);
  return path;
}

t.test(
  'a run that completes: the image was written, output and status collected, temp dir gone',
  async (t) => {
    const binary = await fakeQemu(t.testdir(), 'printf RPL; exit 67');
    const run = await runPayload(x86_64Payload, { binary, accel: 'tcg', cpu: 'max' });
    t.match(run, { exitCode: 67, stdout: 'RPL', killed: undefined });
    const [image, size] = run.stderr.trim().split(' ');
    t.equal(size, '65536', 'QEMU got the whole 64 KiB image');
    t.match(image, /qlaunch-probe-.*\/probe-x86_64\.bin$/);
    await t.rejects(access(image ?? ''), 'the temp image is removed afterwards');
  },
);

t.test('guest code that starts but never ends is killed at the deadline', async (t) => {
  const binary = await fakeQemu(t.testdir(), 'printf R; exec sleep 30');
  const run = await runPayload(x86_64Payload, { binary, accel: 'kvm', cpu: 'host', deadlineMs: 300 });
  t.match(run, { killed: 'deadline', signal: 'SIGKILL', stdout: 'R' });
  t.ok(run.elapsedMs >= 300 && run.elapsedMs < 5000, `killed after ${run.elapsedMs} ms`);
});

t.test('a QEMU that never starts the guest is killed at the startup limit', async (t) => {
  const binary = await fakeQemu(t.testdir(), 'exec sleep 30');
  const run = await runPayload(x86_64Payload, {
    binary,
    accel: 'kvm',
    cpu: 'host',
    startupMs: 300,
    deadlineMs: 50,
  });
  t.match(run, { killed: 'startup', signal: 'SIGKILL', stdout: '' });
  t.ok(run.elapsedMs >= 300 && run.elapsedMs < 5000, `killed after ${run.elapsedMs} ms`);
});

t.test('a QEMU that fails is reported, not thrown', async (t) => {
  const binary = await fakeQemu(
    t.testdir(),
    'echo "qemu: error: failed to set MSR 0x10a to 0x69" >&2; kill -ABRT $$',
  );
  const run = await runPayload(x86_64Payload, { binary, accel: 'kvm', cpu: 'host' });
  t.match(run, { exitCode: undefined, signal: 'SIGABRT', killed: undefined, stderr: /failed to set MSR/ });
  const missing = await runPayload(x86_64Payload, {
    binary: join(t.testdir(), 'nope'),
    accel: 'kvm',
    cpu: 'host',
  });
  t.match(missing, { exitCode: undefined, killed: undefined });
});
