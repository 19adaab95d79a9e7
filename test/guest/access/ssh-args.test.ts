// ssh's command line (PURE): the options, the master connection's, and POSIX quoting, checked against ssh -G and
// real shells (no guest).
import { execa } from 'execa';
import fc from 'fast-check';
import t from 'tap';
import { ErrorCode } from '../../../lib/errors.js';
import { type SshTarget, shellQuote, sshArgs } from '../../../lib/guest/access/ssh-args.js';
import { AWKWARD } from '../../fixtures/awkward-words.js';

const target: SshTarget = { host: '127.0.0.1', port: 2222, user: 'debian', privateKey: '/i/key' };

/** What a POSIX shell makes of `command`: the words printf receives, each NUL-terminated. */
async function wordsVia(shell: string, quoted: string): Promise<string[]> {
  const { stdout } = await execa(shell, ['-c', `printf '%s\\0' ${quoted}`], { stripFinalNewline: false });
  return stdout.split('\0').slice(0, -1);
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

/** What ssh makes of `args`: `ssh -G` prints every option as it resolved it, and connects nowhere. */
async function resolved(args: string[]): Promise<Map<string, string>> {
  const { stdout } = await execa('ssh', ['-G', ...args]);
  return new Map(
    stdout.split('\n').map((line) => [line.split(' ')[0] ?? '', line.slice(line.indexOf(' ') + 1)]),
  );
}

t.test('sshArgs: the real ssh client reads them as meant (ssh -G, no network)', async (t) => {
  const known = '/x y/known%hosts';
  const config = await resolved(sshArgs({ ...target, knownHostsFile: known }));
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

  const master = await resolved(sshArgs({ ...target, controlPath: '/r d/s%.sock' }, { master: true }));
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
