// SSH into guests: local failures, then one real Debian guest for exec and readiness (the argv: ssh-args.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import t from 'tap';
import { buildCloudConfig, buildMetaData } from '../../../lib/cidata/cloud-config.js';
import { writeSeedImage } from '../../../lib/cidata/seed.js';
import { createKeyPair } from '../../../lib/cloud/ssh-key.js';
import { ErrorCode, isQlaunchError } from '../../../lib/errors.js';
import { waitForCloudInit, waitForSsh, waitReady } from '../../../lib/guest/access/ready.js';
import { consoleGuest } from '../../../lib/guest/access/ready-guest.js';
import { sshClient, sshExec, sshInteractive } from '../../../lib/guest/access/ssh.js';
import type { SshTarget } from '../../../lib/guest/access/ssh-args.js';
import { launch } from '../../../lib/guest/launch.js';
import { AWKWARD } from '../../fixtures/awkward-words.js';
import { debianImage, shortTempDir } from '../../fixtures/guests.js';
import { deadPort } from '../../fixtures/ports.js';

t.setTimeout(600_000);

const target: SshTarget = { host: '127.0.0.1', port: 2222, user: 'debian', privateKey: '/i/key' };

function withPath(t: { teardown: (fn: () => void) => void }, path: string) {
  const saved = process.env['PATH'];
  process.env['PATH'] = path;
  t.teardown(() => {
    process.env['PATH'] = saved;
  });
}

t.test('sshExec without a guest: bad commands, a refused connection, timeouts, aborts, no ssh', async (t) => {
  const { privateKey } = await createKeyPair(join(t.testdir(), 'ssh'));
  const local = { ...target, privateKey, port: await deadPort() };
  await t.rejects(sshExec(local, []), { code: ErrorCode.SPEC_INVALID });
  await t.rejects(sshExec(local, ['echo', 'a\0b']), { code: ErrorCode.SPEC_INVALID });
  for (const timeout of [-1, 0, Number.NaN, Number.POSITIVE_INFINITY, 1.5, '5000', null]) {
    await t.rejects(
      sshExec(local, ['true'], { timeout: timeout as number }),
      {
        code: ErrorCode.SPEC_INVALID,
        message: /timeout must be a positive whole number of milliseconds/,
        hint: /timeout: 30_000/,
      },
      `timeout ${String(timeout)}`,
    );
  }
  await t.rejects(sshExec(local, ['true'], { encoding: 'latin1' as 'utf8' }), {
    code: ErrorCode.SPEC_INVALID,
    hint: /encoding: 'buffer'/,
  });
  await t.rejects(sshExec(local, ['true'], { signal: AbortSignal.abort() }), { code: ErrorCode.VM_ABORTED });

  const refused = await sshExec(local, ['true']);
  t.equal(refused.exitCode, 255);
  t.equal(refused.connectionFailed, true);
  t.match(refused.stderr, /Connection refused/);
  t.equal(await sshInteractive(local, ['true']), 255, 'interactive: the exit code, not a throw');

  // A server that accepts and says nothing: ssh waits for its banner.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const hung = { ...local, port: (silent.address() as { port: number }).port };
  let started = Date.now();
  await t.rejects(sshExec(hung, ['true'], { timeout: 500 }), {
    code: ErrorCode.VM_TIMEOUT,
    message: /\["true"\] on debian@127\.0\.0\.1:\d+ did not finish within 500 ms/,
  });
  t.ok(Date.now() - started < 3000, `timed out after ${Date.now() - started} ms`);
  started = Date.now();
  await t.rejects(sshExec(hung, ['true'], { signal: AbortSignal.timeout(300) }), {
    code: ErrorCode.VM_ABORTED,
  });
  t.ok(Date.now() - started < 3000, `aborted after ${Date.now() - started} ms`);

  withPath(t, t.testdir());
  const missing = await sshExec(local, ['true']).catch((e: unknown) => e);
  t.ok(isQlaunchError(missing, ErrorCode.HOST_TOOL_MISSING));
  t.match((missing as { hint: string }).hint, /openssh-client/);
  await t.rejects(sshInteractive(local), { code: ErrorCode.HOST_TOOL_MISSING });
});

t.test(
  'a real Debian guest: ready, then exec with exact output, exit codes, stdin and quoting',
  async (t) => {
    const image = await debianImage('x86_64');
    const dir = shortTempDir(t);
    const key = await createKeyPair(join(dir, 'ssh'), { comment: 'qlaunch@ssh-test' });
    const overlay = join(dir, 'overlay.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'qcow2', overlay]);
    const seed = join(dir, 'seed.iso');
    await writeSeedImage(seed, {
      filesystem: 'iso9660',
      files: {
        'meta-data': buildMetaData({ publicKeys: [key.publicKeyText] }),
        'user-data': buildCloudConfig({}),
      },
    });
    const launched = Date.now();
    const vm = await launch({
      kernel: image.kernel,
      initrd: image.initrd,
      append: image.append,
      disks: [overlay, { path: seed, format: 'raw', readOnly: true }],
      cpus: 2,
      memory: '1G',
      accel: 'tcg',
    });
    t.teardown(() => vm.kill());
    const forward = await vm.forwardPort(22);
    const guest: SshTarget = {
      host: forward.hostAddress,
      port: forward.hostPort,
      user: image.defaultUser,
      privateKey: key.privateKey,
      knownHostsFile: join(dir, 'known_hosts'),
    };
    const watched = consoleGuest(vm.console);
    const watching = new AbortController();
    t.teardown(() => watching.abort());
    const wait = {
      deadline: Date.now() + 300_000,
      failFast: watched.watchFailure(watching.signal),
      consoleTail: watched.consoleTail,
    };
    await waitForSsh(guest, wait);
    const sshAt = Date.now();
    t.pass(`SSH accepted the key ${sshAt - launched} ms after launch`);
    const cloudInit = await waitForCloudInit(guest, wait);
    t.same(cloudInit, { status: 'done', source: 'status', detail: '' });
    t.pass(`cloud-init done ${Date.now() - launched} ms after launch (${Date.now() - sshAt} ms after SSH)`);
    let started = Date.now();
    t.same(await waitReady(watched, guest, { accel: 'tcg' }), cloudInit, 'waitReady on a ready guest');
    t.pass(`waitReady on a ready guest: ${Date.now() - started} ms`);

    t.same(await sshExec(guest, ['sh', '-c', 'echo out; echo err >&2; exit 3']), {
      stdout: 'out\n',
      stderr: 'err\n',
      exitCode: 3,
      connectionFailed: false,
    });
    t.same((await sshExec(guest, ['printf', '%s\\n', "it's $HOME"])).stdout, "it's $HOME\n", 'verbatim');
    const words = await sshExec(guest, ['printf', '%s\\0', ...AWKWARD]);
    t.same(words.stdout.split('\0').slice(0, -1), AWKWARD, "awkward words survive the guest's login shell");
    t.equal(
      (await sshExec(guest, ['sh', '-c', 'exit 255'])).connectionFailed,
      true,
      'remote 255 reads as ssh failing',
    );

    const text = 'line 1\nline 2 ünïcødé\n';
    t.same(await sshExec(guest, ['cat'], { input: text }), {
      stdout: text,
      stderr: '',
      exitCode: 0,
      connectionFailed: false,
    });
    const bytes = new Uint8Array(200_000).map((_, i) => i % 251);
    t.equal((await sshExec(guest, ['sh', '-c', 'wc -c | tr -d " "'], { input: bytes })).stdout, '200000\n');
    t.equal((await sshExec(guest, ['cat'])).stdout, '', 'stdin is empty without input');

    const chunks: string[] = [];
    const errChunks: string[] = [];
    const sink = new PassThrough();
    const piped: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => piped.push(chunk));
    const streamed = await sshExec(
      guest,
      ['sh', '-c', 'for i in 1 2 3; do echo line $i; sleep 0.2; done; echo done >&2'],
      {
        stdout: (chunk) => chunks.push(chunk),
        stderr: (chunk) => errChunks.push(chunk),
      },
    );
    t.equal(chunks.join(''), streamed.stdout, 'the callback saw all of stdout');
    t.ok(chunks.length > 1, `stdout arrived as it was written (${chunks.length} chunks)`);
    t.equal(errChunks.join(''), 'done\n');
    await sshExec(guest, ['echo', 'to a stream'], { stdout: sink });
    t.equal(Buffer.concat(piped).toString(), 'to a stream\n');
    t.ok(sink.writable, 'the stream is not ended: it may be shared');

    started = Date.now();
    await t.rejects(sshExec(guest, ['sleep', '30'], { timeout: 1000 }), { code: ErrorCode.VM_TIMEOUT });
    t.ok(Date.now() - started < 5000, `a hung command times out (${Date.now() - started} ms)`);
    await t.rejects(sshExec(guest, ['sleep', '30'], { signal: AbortSignal.timeout(500) }), {
      code: ErrorCode.VM_ABORTED,
    });

    t.equal(
      await sshInteractive(guest, ['sh', '-c', 'exit 7']),
      7,
      'interactive passes the exit code through',
    );
    t.equal((await sshClient(guest).exec(['id', '-un'])).stdout, `${image.defaultUser}\n`);

    const known = readFileSync(guest.knownHostsFile!, 'utf8');
    t.match(known, new RegExp(`^\\[127\\.0\\.0\\.1\\]:${guest.port} ssh-ed25519 `, 'm'), 'host key pinned');
    // Our own user key stands in for an impostor's host key.
    writeFileSync(guest.knownHostsFile!, `[127.0.0.1]:${guest.port} ${key.publicKeyText}\n`);
    const impostor = await sshExec(guest, ['true']);
    t.equal(impostor.exitCode, 255, 'a changed host key is refused');
    t.match(impostor.stderr, /Host key verification failed|IDENTIFICATION HAS CHANGED/);
    writeFileSync(guest.knownHostsFile!, known);

    started = Date.now();
    await sshExec(guest, ['true']);
    t.pass(`one ssh round trip (ssh true) under TCG: ${Date.now() - started} ms`);

    // cloud-init's own report of a failure, made by adding an error to the status file it reads.
    const statusFile = '/run/cloud-init/status.json';
    const inject = `import json; d = json.load(open('${statusFile}')); d['v1']['modules-final']['errors'].append('qlaunch-injected failure'); json.dump(d, open('${statusFile}', 'w'))`;
    t.equal((await sshExec(guest, ['sudo', 'cp', statusFile, '/run/qlaunch-status.json'])).exitCode, 0);
    t.equal((await sshExec(guest, ['sudo', 'python3', '-c', inject])).exitCode, 0);
    const failed = await waitForCloudInit(guest, { deadline: Date.now() + 60_000 }).catch((e: unknown) => e);
    t.ok(isQlaunchError(failed, ErrorCode.VM_CLOUD_INIT_FAILED), String(failed));
    t.match((failed as Error).message, /cloud-init failed in the guest at 127\.0\.0\.1:\d+:\nstatus: error/);
    t.match((failed as Error).message, /qlaunch-injected failure/, 'with the --long report');
    t.equal((await sshExec(guest, ['sudo', 'cp', '/run/qlaunch-status.json', statusFile])).exitCode, 0);

    // An image without the cloud-init command: the boot-finished file decides.
    t.equal(
      (await sshExec(guest, ['sudo', 'mv', '/usr/bin/cloud-init', '/usr/bin/cloud-init.off'])).exitCode,
      0,
    );
    t.same(await waitForCloudInit(guest, { deadline: Date.now() + 60_000 }), {
      status: 'done',
      source: 'boot-finished',
      detail: '',
    });
    t.equal(
      (await sshExec(guest, ['sudo', 'mv', '/usr/bin/cloud-init.off', '/usr/bin/cloud-init'])).exitCode,
      0,
    );

    // Fail fast for real: QEMU dies while a readiness wait polls a port nothing listens on.
    const unreachable = { ...guest, port: await deadPort() };
    setTimeout(() => vm.kill(), 1000);
    started = Date.now();
    const error = await waitReady(watched, unreachable, { accel: 'tcg' }).catch((e: unknown) => e);
    t.ok(isQlaunchError(error, ErrorCode.VM_EXITED), String(error));
    t.match(
      (error as Error).message,
      /stopped before it was ready: QEMU was killed by SIGKILL\nlast console lines:\n/,
    );
    t.ok(
      Date.now() - started < 3000,
      `QEMU's death ended the wait ${Date.now() - started} ms after it began`,
    );
  },
);
