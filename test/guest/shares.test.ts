// A mount's transport on a host, and the virtiofsd command that keeps a read-only share read-only.
import t from 'tap';
import { chooseTransport } from '../../lib/guest/shares.js';
import { virtiofsdCommand } from '../../lib/guest/virtiofsd.js';
import type { MountSpec } from '../../lib/machine/mounts.js';

const mount = (type: MountSpec['type']): MountSpec => ({ host: '/h', guest: '/g', writable: false, type });
const full = { virtiofsd: '/usr/lib/qemu/virtiofsd', root: true };

t.test('auto is virtiofs where virtiofsd can run, else 9p', async (t) => {
  t.equal(chooseTransport(mount('auto'), full), 'virtiofs');
  t.equal(chooseTransport(mount('auto'), { ...full, root: false }), '9p');
  t.equal(chooseTransport(mount('auto'), { virtiofsd: undefined, root: true }), '9p');
  t.equal(chooseTransport(mount('9p'), full), '9p');
});

t.test(
  'a path with a comma or backslash never reaches virtiofsd: auto picks 9p, virtiofs is refused',
  async (t) => {
    for (const host of ['/srv/a,source=/', '/srv/a\\,b']) {
      t.equal(chooseTransport({ ...mount('auto'), host }, full), '9p', host);
      t.throws(() => chooseTransport({ ...mount('virtiofs'), host }, full), {
        code: 'SPEC_INVALID',
        message: /virtiofsd cannot be given a path with a comma or backslash/,
        hint: /type=9p/,
      });
    }
  },
);

t.test('virtiofs asked for where it cannot run is refused, naming the fix', async (t) => {
  t.throws(() => chooseTransport(mount('virtiofs'), { virtiofsd: undefined, root: true }), {
    code: 'HOST_TOOL_MISSING',
    message: 'mount /h: type=virtiofs needs virtiofsd, and this host has none',
    hint: /install it .* or use type=9p/,
  });
  t.throws(() => chooseTransport(mount('virtiofs'), { ...full, root: false }), {
    code: 'HOST_PRIVILEGE_MISSING',
    message: /needs root/,
    hint: /run qlaunch as root, or use type=9p/,
  });
});

t.test(
  'virtiofsd: a writable share runs it as is; a read-only one under a read-only bind mount',
  async (t) => {
    t.same(virtiofsdCommand('/v', '/h d', '/r/s', false), [
      '/v',
      '--socket-path=/r/s',
      '-o',
      'source=/h d',
      '-o',
      'cache=auto',
    ]);
    const ro = virtiofsdCommand('/v', '/h d', '/r/s', true);
    t.same(ro.slice(0, 5), ['unshare', '--mount', '--propagation', 'private', '--']);
    t.same(ro.slice(-7), ['/h d', '/v', '--socket-path=/r/s', '-o', 'source=/h d', '-o', 'cache=auto']);
    t.notMatch(ro[7] ?? '', /\/h d/, 'the path is an argument, never part of the script');
  },
);
