// `--network bridge:BR` for real, in a network namespace this test makes (root), with a bridge.conf of its own (an
// overlay on /etc in a private mount namespace, so the host's /etc is untouched): the guest's NIC is a port of the
// bridge while it runs, through qemu-bridge-helper; a bridge the ACL does not allow is refused before QEMU starts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, tinyGuest } from '../fixtures/guests.js';

t.setTimeout(300_000);

const tag = `${process.pid % 100_000}`;
const ns = `qlb-n-${tag}`;
const HELPER = '/usr/lib/qemu/qemu-bridge-helper';

async function cannotRun(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root to make a network namespace and a bridge';
  if (!existsSync(HELPER)) return `no ${HELPER} (apt-get install qemu-system-common)`;
  const made = await execa('ip', ['netns', 'add', ns], { reject: false });
  if (made.exitCode !== 0) return `cannot make a network namespace: ${made.stderr.trim()}`;
  return undefined;
}

const skip = (await cannotRun()) ?? false;

// Run in the namespace, with /etc/qemu/bridge.conf saying `acl`: boot the tiny guest on bridge:br0 (or br1), print
// the ports of br0 while it runs, or the error that refused it.
const SCRIPT = `
import { execFileSync } from 'node:child_process';
const [dir, acl, bridge, manifest] = process.argv.slice(1);
execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dir]);
execFileSync('mkdir', ['-p', dir + '/u/qemu', dir + '/w']);
execFileSync('sh', ['-c', 'printf "%s\\\\n" "$1" > "$2"', 'sh', acl, dir + '/u/qemu/bridge.conf']);
execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', 'lowerdir=/etc,upperdir=' + dir + '/u,workdir=' + dir + '/w', '/etc']);
const { launch } = await import(${JSON.stringify(join(cliPath, '../../lib/guest/launch.js'))});
const tiny = JSON.parse((await import('node:fs')).readFileSync(manifest, 'utf8'));
try {
  const guest = await launch({ name: 'bx', kernel: tiny.kernel, initrd: tiny.initrd, append: tiny.append, accel: 'tcg', networks: ['bridge:' + bridge] });
  const ports = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }));
  await guest.kill();
  const after = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', 'br0'], { encoding: 'utf8' }) || '[]');
  console.log(JSON.stringify({ ports: ports.map((p) => p.ifname), after: after.map((p) => p.ifname) }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message, hint: error.hint }));
}
`;

t.test(
  'a guest on bridge:br0 through qemu-bridge-helper; a bridge the ACL denies refused',
  { skip },
  async (t) => {
    t.teardown(() => execa('ip', ['netns', 'del', ns], { reject: false }));
    for (const argv of [
      ['ip', '-n', ns, 'link', 'set', 'lo', 'up'],
      ['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge'],
      ['ip', '-n', ns, 'link', 'set', 'br0', 'up'],
      ['ip', '-n', ns, 'link', 'add', 'br1', 'type', 'bridge'],
    ]) {
      await execa(argv[0] ?? '', argv.slice(1));
    }
    const manifest = process.env['QLAUNCH_TINY_X86_64'] ?? '';
    if (!manifest) await tinyGuest('x86_64');
    const run = async (acl: string, bridge: string) => {
      const dir = shortTempDir(t);
      const result = await execa(
        'ip',
        [
          'netns',
          'exec',
          ns,
          'unshare',
          '-m',
          process.execPath,
          '--input-type=module',
          '-e',
          SCRIPT,
          dir,
          acl,
          bridge,
          manifest,
        ],
        { reject: false },
      );
      t.equal(result.exitCode, 0, result.stderr);
      return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    };

    const joined = await run('allow br0', 'br0');
    t.equal(
      joined.ports?.length,
      1,
      `the guest's NIC is a port of br0 while it runs: ${JSON.stringify(joined)}`,
    );
    t.same(joined.after, [], 'and is gone with it');

    const denied = await run('allow br0', 'br1');
    t.match(denied, { code: 'NETWORK_BRIDGE_DENIED', message: /may not use bridge br1/, hint: /allow br1/ });
    const missing = await run('allow all', 'br9');
    t.match(missing, { code: 'NETWORK_BRIDGE_NOT_FOUND', message: 'there is no bridge br9 on this host' });
  },
);
