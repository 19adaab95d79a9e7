// The SSH master connection without a guest: what it refuses, and how it fails against a port with no sshd behind it
// (the real one, riding commands in a warm clone, is proven in test/guest/warm/store.test.ts).
import { existsSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { ErrorCode } from '../../../lib/errors.js';
import type { SshTarget } from '../../../lib/guest/access/ssh-args.js';
import { controlPathFits, openSshMaster } from '../../../lib/guest/access/ssh-master.js';
import { shortTempDir } from '../../fixtures/guests.js';
import { deadPort } from '../../fixtures/ports.js';

const targetAt = (dir: string, port: number): SshTarget => ({
  host: '127.0.0.1',
  port,
  user: 'debian',
  privateKey: join(dir, 'no-key'),
  controlPath: join(dir, 'ssh.sock'),
});

t.test('a path too long for a socket (with the suffix ssh binds first) is refused, not tried', async (t) => {
  t.ok(controlPathFits('/tmp/qlaunch-run-abcdef/ssh.sock'));
  t.notOk(controlPathFits(`/${'d'.repeat(89)}/s.sock`), '96 bytes + 17 is over the 107 a socket may have');
  t.ok(controlPathFits(`/${'d'.repeat(82)}/s.sock`), '89 + 17 fits');
  const dir = shortTempDir(t);
  await t.rejects(openSshMaster({ ...targetAt(dir, 22), controlPath: `/${'d'.repeat(120)}/s.sock` }, 1000), {
    code: ErrorCode.SPEC_INVALID,
    hint: /TMPDIR/,
  });
  await t.rejects(openSshMaster({ ...targetAt(dir, 22), controlPath: undefined }, 1000), {
    code: ErrorCode.SPEC_INVALID,
    message: /needs a control socket path/,
  });
});

t.test('nothing listening: tried again until the timeout, then the reason ssh gave', async (t) => {
  const dir = shortTempDir(t);
  const started = performance.now();
  await t.rejects(openSshMaster(targetAt(dir, await deadPort()), 700), {
    code: ErrorCode.VM_SSH,
    message: /could not log in over SSH to debian@127\.0\.0\.1:\d+: [\s\S]*Connection refused/,
    hint: /sshd/,
  });
  const took = performance.now() - started;
  t.ok(
    took >= 500 && took < 5000,
    `gave up after ${Math.round(took)} ms, not at once and not at ssh's own timeout`,
  );
  t.notOk(existsSync(join(dir, 'ssh.sock')), 'no socket is left');
});

t.test('a peer that never speaks SSH: the attempt is ended at the timeout', async (t) => {
  const dir = shortTempDir(t);
  const held: Socket[] = [];
  const server = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const started = performance.now();
  await t.rejects(openSshMaster(targetAt(dir, port), 800), {
    code: ErrorCode.VM_SSH,
    message: /no login within 800 ms|timed out/,
  });
  t.ok(performance.now() - started < 5000, 'well before ssh would have given up by itself (10 s)');
  t.notOk(existsSync(join(dir, 'ssh.sock')));
});

t.test('no ssh on PATH: said so, with the package to install', async (t) => {
  const dir = shortTempDir(t);
  const path = process.env.PATH;
  process.env.PATH = dir;
  t.teardown(() => {
    process.env.PATH = path;
  });
  await t.rejects(openSshMaster(targetAt(dir, 22), 1000), {
    code: ErrorCode.HOST_TOOL_MISSING,
    hint: /apt-get install openssh-client/,
  });
});
