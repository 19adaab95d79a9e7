// SSH into guests: the pure argv and quoting, local failures, then one real Debian guest for exec and readiness.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import fc from 'fast-check';
import t from 'tap';
import { buildCloudConfig, buildMetaData } from '../../../lib/cidata/cloud-config.js';
import { writeSeedImage } from '../../../lib/cidata/seed.js';
import { createKeyPair } from '../../../lib/cloud/ssh-key.js';
import { ErrorCode, isQlaunchError } from '../../../lib/errors.js';
import { waitForCloudInit, waitForSsh, waitReady } from '../../../lib/guest/access/ready.js';
import { consoleGuest } from '../../../lib/guest/access/ready-guest.js';
import {
  type SshTarget,
  shellQuote,
  sshArgs,
  sshClient,
  sshExec,
  sshInteractive,
} from '../../../lib/guest/access/ssh.js';
import { launch } from '../../../lib/guest/launch.js';
import { debianImage, shortTempDir } from '../../fixtures/guests.js';

t.setTimeout(600_000);

const target: SshTarget = { host: '127.0.0.1', port: 2222, user: 'debian', privateKey: '/i/key' };

/** Words that a shell would otherwise split, expand, glob or end a command at. */
const AWKWARD = [
  'plain',
  '',
  'two words',
  "it's",
  "''",
  '"double"',
  '$HOME',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${…} for the shell is the point
  '${PATH}',
  '$(id)',
  '`id`',
  'a\nb',
  '\ttab',
  'back\\slash',
  '*',
  '~',
  '#comment',
  'a;b',
  'a|b&c',
  '-n',
  'FOO=bar',
  'if',
  '!',
  'ünïcødé ✓',
];

/** What a POSIX shell makes of `command`: the words printf receives, each NUL-terminated. */
async function wordsVia(shell: string, quoted: string): Promise<string[]> {
  const { stdout } = await execa(shell, ['-c', `printf '%s\\0' ${quoted}`], { stripFinalNewline: false });
  return stdout.split('\0').slice(0, -1);
}

function withPath(t: { teardown: (fn: () => void) => void }, path: string) {
  const saved = process.env['PATH'];
  process.env['PATH'] = path;
  t.teardown(() => {
    process.env['PATH'] = saved;
  });
}

/** A loopback port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

t.test('sshArgs: no user config, our key only, no prompts, keepalives, the destination last', async (t) => {
  t.same(sshArgs(target), [
    '-F',
    'none',
    '-i',
    '/i/key',
    '-p',
    '2222',
    '-l',
    'debian',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,sntrup761x25519-sha512@openssh.com',
    '-T',
    '--',
    '127.0.0.1',
  ]);
  const pinned = sshArgs(
    { ...target, privateKey: '/a b/100%key', knownHostsFile: '/x y/known%hosts' },
    { interactive: true, connectTimeout: 3, serverAliveInterval: 7 },
  );
  t.equal(pinned[3], '/a b/100%%key', "ssh's % tokens escaped");
  t.ok(pinned.includes('StrictHostKeyChecking=accept-new'), 'a per-instance file pins the first key seen');
  t.ok(pinned.includes('UserKnownHostsFile="/x y/known%%hosts"'), 'quoted: ssh splits the list on spaces');
  t.ok(pinned.includes('ConnectTimeout=3'));
  t.ok(pinned.includes('ServerAliveInterval=7'));
  t.equal(pinned.at(-3), '-t');
});

t.test('sshArgs: X25519 first only through this host; a master and the commands that ride it', async (t) => {
  const kex = (host: string) => sshArgs({ ...target, host }).find((a) => a.startsWith('KexAlgorithms='));
  t.match(kex('127.0.0.1'), /^KexAlgorithms=curve25519-sha256,/, 'a forward on this host');
  t.match(kex('::1'), /^KexAlgorithms=curve25519-sha256,/);
  t.equal(kex('192.168.1.5'), undefined, "another host: OpenSSH's own (post-quantum) order");
  t.equal(kex('127.example.org'), undefined, 'a name that only starts like loopback is not');

  const control = '/run dir/100%/ssh.sock';
  const rider = sshArgs({ ...target, controlPath: control });
  t.ok(rider.includes('ControlMaster=no'), 'a command never becomes a master itself');
  t.ok(rider.includes('ControlPath="/run dir/100%%/ssh.sock"'), 'quoted, % escaped');
  t.notOk(rider.includes('-N'));
  const master = sshArgs({ ...target, controlPath: control }, { master: true });
  t.ok(master.includes('ControlMaster=yes'));
  t.ok(
    master.includes('ControlPersist=no'),
    'no background process: it lives as long as the one qlaunch holds',
  );
  t.ok(master.includes('-N'), 'runs no command');
  t.equal(master.at(-1), '127.0.0.1', 'the destination still last');
  t.throws(
    () => sshArgs(target, { master: true }),
    { code: ErrorCode.SPEC_INVALID },
    'a master needs a path',
  );
  t.throws(() => sshArgs({ ...target, controlPath: '/x/"y' }), { code: ErrorCode.SPEC_INVALID });
  t.equal(
    sshArgs(target).some((a) => a.startsWith('Control')),
    false,
    'no path: no multiplexing at all',
  );
});

t.test('sshArgs: refuses what ssh would misread', async (t) => {
  const bad: [string, Partial<SshTarget>][] = [
    ['port 0', { port: 0 }],
    ['port 65536', { port: 65_536 }],
    ['port 22.5', { port: 22.5 }],
    ['a user that is an option', { user: '-oProxyCommand=touch /tmp/x' }],
    ['a user with a host', { user: 'root@evil' }],
    ['a user with a space', { user: 'de bian' }],
    ['an empty host', { host: '' }],
    ['a host that is an option', { host: '-oProxyCommand=x' }],
    ['a host with a user', { host: 'root@127.0.0.1' }],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: ssh would expand this ${…}, so it is refused
    ['a key with ${VAR}', { privateKey: '/k/${HOME}' }],
    ['a key with a newline', { privateKey: '/k/a\nb' }],
    ['an empty key path', { privateKey: '' }],
    ['a known-hosts path with a quote', { knownHostsFile: '/k/"x' }],
  ];
  for (const [what, change] of bad) {
    t.throws(() => sshArgs({ ...target, ...change }), { code: ErrorCode.SPEC_INVALID }, what);
  }
  t.throws(() => sshArgs(target, { connectTimeout: 0 }), { code: ErrorCode.SPEC_INVALID });
  t.throws(() => sshArgs(target, { serverAliveInterval: 1.5 }), { code: ErrorCode.SPEC_INVALID });
  t.doesNotThrow(() => sshArgs({ ...target, user: 'svc_01.x-y' }));
});

t.test('sshArgs: the real ssh client reads them as meant (ssh -G, no network)', async (t) => {
  const known = '/x y/known%hosts';
  const { stdout } = await execa('ssh', ['-G', ...sshArgs({ ...target, knownHostsFile: known })]);
  const config = new Map(
    stdout.split('\n').map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]),
  );
  t.equal(config.get('user'), 'debian');
  t.equal(config.get('hostname'), '127.0.0.1');
  t.equal(config.get('port'), '2222');
  t.equal(config.get('batchmode'), 'yes');
  t.equal(config.get('identitiesonly'), 'yes');
  t.equal(config.get('stricthostkeychecking'), 'accept-new');
  t.equal(config.get('userknownhostsfile'), known, 'one file, % restored');
  t.equal(config.get('globalknownhostsfile'), '/dev/null');
  t.equal(config.get('connecttimeout'), '10');
  t.equal(config.get('serveraliveinterval'), '5');
  t.equal(config.get('serveralivecountmax'), '3');
  t.equal(config.get('loglevel'), 'ERROR');
  t.equal(config.get('requesttty'), 'false');
  t.equal(config.get('proxycommand'), undefined, 'nothing from a user config');
  t.equal(config.get('controlmaster'), 'false', 'no multiplexing a user config could turn on');

  const master = new Map(
    (
      await execa('ssh', ['-G', ...sshArgs({ ...target, controlPath: '/r d/s%.sock' }, { master: true })])
    ).stdout
      .split('\n')
      .map((line) => [line.split(' ')[0], line.slice(line.indexOf(' ') + 1)]),
  );
  t.equal(master.get('controlmaster'), 'true');
  t.equal(master.get('controlpath'), '/r d/s%.sock', 'one path, % restored');
  t.equal(master.get('controlpersist'), 'no');
  t.match(master.get('kexalgorithms'), /^curve25519-sha256,/);
});

t.test(
  'shellQuote: every word single-quoted, embedded quotes as the four characters quote-backslash-quote-quote',
  async (t) => {
    t.equal(shellQuote(['ls', '-l']), "'ls' '-l'");
    t.equal(shellQuote(['']), "''");
    t.equal(shellQuote(["it's"]), "'it'\\''s'");
    t.equal(shellQuote(['$HOME', 'a b']), "'$HOME' 'a b'");
    t.equal(shellQuote(['a\nb']), "'a\nb'");
    t.equal(shellQuote([]), '');
  },
);

t.test('shellQuote: dash and bash split it back into exactly the words given', async (t) => {
  for (const shell of ['sh', 'bash']) {
    t.same(await wordsVia(shell, shellQuote(AWKWARD)), AWKWARD, shell);
  }
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.string({ unit: 'binary' }).filter((s) => !/[\0\uD800-\uDFFF]/.test(s)),
        { minLength: 1, maxLength: 6 },
      ),
      async (argv) => {
        t.same(await wordsVia('sh', shellQuote(argv)), argv);
      },
    ),
    { numRuns: 100 },
  );
});

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
