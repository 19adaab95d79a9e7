// The instance key pair: real ssh-keygen, modes checked on disk, and a clear error when OpenSSH is missing.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { createKeyPair, keygenArgs } from '../../lib/cloud/ssh-key.js';
import { ErrorCode, isQlaunchError } from '../../lib/errors.js';

const mode = (path: string) => statSync(path).mode & 0o777;

function usePath(t: { teardown: (fn: () => void) => void }, path: string): void {
  const saved = process.env['PATH'];
  process.env['PATH'] = path;
  t.teardown(() => {
    process.env['PATH'] = saved;
  });
}

t.test('keygenArgs: passphrase-less ed25519, quiet, comment and path as separate words', async (t) => {
  t.same(keygenArgs('/d/id_ed25519', 'qlaunch@web 1'), [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'qlaunch@web 1',
    '-f',
    '/d/id_ed25519',
  ]);
  for (const comment of ['a\nssh-ed25519 AAAA attacker', 'tab\there', 'cr\r']) {
    t.throws(() => keygenArgs('/d/k', comment), { code: ErrorCode.SPEC_INVALID }, JSON.stringify(comment));
  }
});

t.test(
  'createKeyPair: a new 0700 dir, both halves 0600, the public key text matches the private key',
  async (t) => {
    const dir = join(t.testdir(), 'instance', 'ssh');
    const pair = await createKeyPair(dir, { comment: 'qlaunch@test' });
    t.equal(pair.privateKey, join(dir, 'id_ed25519'));
    t.equal(pair.publicKey, join(dir, 'id_ed25519.pub'));
    t.equal(mode(dir), 0o700, 'dir 0700');
    t.equal(mode(pair.privateKey), 0o600, 'private key 0600');
    t.equal(mode(pair.publicKey), 0o600, 'public key 0600');
    t.match(pair.publicKeyText, /^ssh-ed25519 [A-Za-z0-9+/=]+ qlaunch@test$/);
    t.equal(pair.publicKeyText, readFileSync(pair.publicKey, 'utf8').trim());
    const derived = await execa('ssh-keygen', ['-y', '-f', pair.privateKey]);
    t.equal(
      derived.stdout.split(' ').slice(0, 2).join(' '),
      pair.publicKeyText.split(' ').slice(0, 2).join(' '),
    );
  },
);

t.test(
  'createKeyPair: an existing dir keeps its mode; a custom name; an existing key is never overwritten',
  async (t) => {
    const dir = t.testdir();
    const before = mode(dir);
    const pair = await createKeyPair(dir, { name: 'key' });
    t.equal(mode(dir), before, "a caller's existing dir is not chmodded");
    t.equal(pair.privateKey, join(dir, 'key'));
    t.match(pair.publicKeyText, / qlaunch$/, 'default comment');
    const original = readFileSync(pair.privateKey, 'utf8');
    await t.rejects(createKeyPair(dir, { name: 'key' }), {
      code: ErrorCode.VM_SSH,
      message: /already exists/,
    });
    t.equal(readFileSync(pair.privateKey, 'utf8'), original, 'untouched');
    writeFileSync(join(dir, 'other.pub'), 'x');
    await t.rejects(
      createKeyPair(dir, { name: 'other' }),
      { code: ErrorCode.VM_SSH },
      'a lone .pub counts too',
    );
    for (const name of ['', 'a/b']) {
      await t.rejects(createKeyPair(dir, { name }), { code: ErrorCode.SPEC_INVALID });
    }
  },
);

t.test('createKeyPair: ssh-keygen failing is VM_SSH with what it said (a stand-in ssh-keygen)', async (t) => {
  const dir = t.testdir({
    bin: { 'ssh-keygen': '#!/bin/sh\necho "Saving key failed: disk full" >&2\nexit 1\n' },
  });
  chmodSync(join(dir, 'bin', 'ssh-keygen'), 0o755);
  usePath(t, `${join(dir, 'bin')}:${process.env['PATH']}`);
  await t.rejects(createKeyPair(join(dir, 'k')), {
    code: ErrorCode.VM_SSH,
    message: /ssh-keygen could not create .*: Saving key failed: disk full/,
  });
});

t.test('createKeyPair: without ssh-keygen on PATH, HOST_TOOL_MISSING names openssh-client', async (t) => {
  const dir = t.testdir({ bin: {} });
  usePath(t, join(dir, 'bin'));
  const error = await createKeyPair(join(dir, 'k')).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, ErrorCode.HOST_TOOL_MISSING));
  t.match((error as Error).message, /ssh-keygen/);
  t.match((error as { hint: string }).hint, /apt-get install openssh-client/);
});
