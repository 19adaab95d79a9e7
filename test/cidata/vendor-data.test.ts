// qlaunch's vendor-data: a cloud-config with one bootcmd, and that bootcmd's script run on a directory tree.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { parse } from 'yaml';
import { checkUserData } from '../../lib/cidata/user-data.js';
import { buildVendorData, SSH_HOST_KEYS_NAME, SSH_HOST_KEYS_SCRIPT } from '../../lib/cidata/vendor-data.js';

t.test(
  'vendor-data: a #cloud-config whose only key is a bootcmd running the script as an argv',
  async (t) => {
    const text = buildVendorData();
    t.equal(checkUserData(text, 'vendor-data'), 'cloud-config');
    t.same(parse(text), { bootcmd: [['sh', '-c', SSH_HOST_KEYS_SCRIPT, SSH_HOST_KEYS_NAME, '/']] });
    t.equal(buildVendorData(), text, 'the same bytes every time');
  },
);

t.test('vendor-data with mounts: cloud-init writes them to fstab, after the repair bootcmd', async (t) => {
  const text = buildVendorData([['m0', '/src', 'virtiofs', 'ro,nofail', '0', '0']]);
  t.equal(checkUserData(text, 'vendor-data'), 'cloud-config');
  t.same(parse(text).mounts, [['m0', '/src', 'virtiofs', 'ro,nofail', '0', '0']]);
  t.same(parse(text).bootcmd, parse(buildVendorData()).bootcmd);
  t.equal(buildVendorData([]), buildVendorData(), 'no mounts: the same bytes as before');
});

/** A guest's root as far as the script looks: /etc/ssh and, when `ran`, cloud-init's ssh semaphore. */
function guestRoot(dir: string, options: { ran: boolean }): string {
  mkdirSync(join(dir, 'etc/ssh'), { recursive: true });
  if (options.ran) {
    mkdirSync(join(dir, 'var/lib/cloud/instance/sem'), { recursive: true });
    writeFileSync(join(dir, 'var/lib/cloud/instance/sem/config_ssh'), '');
  }
  return dir;
}

const runScript = (root: string) => execa('sh', ['-c', SSH_HOST_KEYS_SCRIPT, SSH_HOST_KEYS_NAME, root]);

/** Each host key file with its size and modification time: what a run changed. */
function keyFiles(root: string): Record<string, string> {
  const dir = join(root, 'etc/ssh');
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => {
        const stats = statSync(join(dir, name));
        return [name, `${stats.size}@${stats.mtimeMs}`];
      }),
  );
}

/** A key pair made the way cloud-init's ssh module makes it. */
async function makeKey(root: string, type: string): Promise<string> {
  const path = join(root, `etc/ssh/ssh_host_${type}_key`);
  await execa('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', path]);
  return path;
}

t.test('the script leaves a first boot to cloud-init: no keys, no semaphore, nothing made', async (t) => {
  const root = guestRoot(t.testdir(), { ran: false });
  const run = await runScript(root);
  t.equal(run.exitCode, 0);
  t.equal(run.stdout + run.stderr, '', 'says nothing');
  t.same(keyFiles(root), {});
});

t.test('the script leaves sound keys alone, however often it runs', async (t) => {
  const root = guestRoot(t.testdir(), { ran: true });
  await makeKey(root, 'ed25519');
  await makeKey(root, 'ecdsa');
  const before = keyFiles(root);
  for (let i = 0; i < 2; i++) {
    const run = await runScript(root);
    t.equal(run.stdout + run.stderr, '');
    t.same(keyFiles(root), before, `run ${i + 1} changed nothing`);
  }
});

t.test('empty key files (a hard power-off after the first boot made them) are made again', async (t) => {
  const root = guestRoot(t.testdir(), { ran: true });
  const ed25519 = await makeKey(root, 'ed25519');
  const ecdsa = await makeKey(root, 'ecdsa');
  const sound = readFileSync(ed25519, 'utf8');
  writeFileSync(ecdsa, '');
  writeFileSync(`${ecdsa}.pub`, '');
  const run = await runScript(root);
  t.equal(run.exitCode, 0, run.stderr);
  t.match(run.stdout, /qlaunch: remade the SSH host keys that a hard power-off had lost/);
  t.equal(readFileSync(ed25519, 'utf8'), sound, 'a sound key is kept');
  for (const path of [ecdsa, ed25519]) {
    const fingerprint = await execa('ssh-keygen', ['-l', '-f', path], { reject: false });
    t.equal(fingerprint.exitCode, 0, `${basename(path)} is a key again ${fingerprint.stderr}`);
  }
  const again = keyFiles(root);
  t.equal((await runScript(root)).stdout, '', 'the next boot finds nothing to do');
  t.same(keyFiles(root), again);
});

t.test(
  'an empty public half alone takes its private key with it; no keys at all after cloud-init ran are made',
  async (t) => {
    const root = guestRoot(t.testdir(), { ran: true });
    const ed25519 = await makeKey(root, 'ed25519');
    const old = readFileSync(ed25519, 'utf8');
    writeFileSync(`${ed25519}.pub`, '');
    t.match((await runScript(root)).stdout, /remade the SSH host keys/);
    t.not(readFileSync(ed25519, 'utf8'), old, 'a new pair, not a private key without its public half');
    t.ok(statSync(`${ed25519}.pub`).size > 0, 'with its public half');

    const bare = guestRoot(t.testdir(), { ran: true });
    t.match((await runScript(bare)).stdout, /remade the SSH host keys/);
    t.ok(statSync(join(bare, 'etc/ssh/ssh_host_ed25519_key')).size > 0, 'sshd has keys to start with');
  },
);
