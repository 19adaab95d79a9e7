// Private networks: group, port and MAC derivation, `--network` parsing and the spec it fills in.

import fc from 'fast-check';
import t from 'tap';
import {
  isUnicastMac,
  PRIVATE_NET_NAME,
  privateNetdev,
  privateNetMac,
  privateNetSegment,
} from '../../lib/machine/private-net.js';
import { normalizeSpec, parseNetworkOption } from '../../lib/machine/spec.js';

const netName = fc.stringMatching(PRIVATE_NET_NAME);

t.test('one name is one segment, every time', async (t) => {
  t.same(privateNetSegment('alpha'), privateNetSegment('alpha'));
  // Pinned: guests of an older and a newer qlaunch on the same name must still meet.
  t.same(privateNetSegment('alpha'), { group: '239.255.213.70', port: 29380 });
  fc.assert(
    fc.property(netName, (name) => {
      const { group, port } = privateNetSegment(name);
      const octets = group.split('.').map(Number);
      return (
        octets.length === 4 &&
        octets[0] === 239 &&
        octets[1] === 255 &&
        (octets[2] ?? 255) < 255 &&
        (octets[3] ?? 256) <= 255 &&
        Number.isInteger(port) &&
        port >= 10_000 &&
        port < 30_000
      );
    }),
  );
});

t.test('different names are different segments', async (t) => {
  const alpha = privateNetSegment('alpha');
  const beta = privateNetSegment('beta');
  t.not(alpha.group, beta.group, 'alpha and beta: different groups');
  t.not(alpha.port, beta.port, 'alpha and beta: different ports');
  // 1000 names: a group+port pair is unique among them (a clash would put two networks on one segment).
  const names = Array.from({ length: 1000 }, (_, i) => `net-${i}`);
  const keys = new Set(names.map((n) => JSON.stringify(privateNetSegment(n))));
  t.equal(keys.size, names.length);
});

t.test('MACs are stable, unicast, locally administered and differ per VM and per network', async (t) => {
  t.equal(privateNetMac('web', 'alpha'), privateNetMac('web', 'alpha'));
  t.not(privateNetMac('web', 'alpha'), privateNetMac('db', 'alpha'));
  t.not(privateNetMac('web', 'alpha'), privateNetMac('web', 'beta'));
  // Same bytes as the instance layer's stableMac(`${name}/private/${net}`): one scheme for a name's MACs.
  t.equal(privateNetMac('web', 'alpha'), '72:63:f3:75:7a:13');
  fc.assert(
    fc.property(fc.string(), netName, (vm, net) => {
      const mac = privateNetMac(vm, net);
      const first = Number.parseInt(mac.slice(0, 2), 16);
      return isUnicastMac(mac) && (first & 0x02) === 2 && (first & 0x01) === 0;
    }),
  );
  t.notOk(isUnicastMac('01:00:5e:00:00:01'), 'multicast');
  t.notOk(isUnicastMac('52:54:00:12:34'), 'short');
  t.notOk(isUnicastMac('52:54:00:12:34:56,x=1'), 'option injection');
});

t.test('the netdev joins the group on loopback only', async (t) => {
  const { group, port } = privateNetSegment('alpha');
  t.equal(privateNetdev('priv0', 'alpha'), `socket,id=priv0,mcast=${group}:${port},localaddr=127.0.0.1`);
});

t.test('parseNetworkOption reads user, none and private:NET', async (t) => {
  t.same(parseNetworkOption('user'), { kind: 'user' });
  t.same(parseNetworkOption(' none '), { kind: 'none' });
  t.same(parseNetworkOption('private:lab-1'), { kind: 'private', name: 'lab-1' });
  t.same(parseNetworkOption(`private:${'a'.repeat(63)}`), { kind: 'private', name: 'a'.repeat(63) });
  for (const bad of [
    '',
    'bridge',
    'private',
    'private:',
    'private:-x',
    'private:Lab',
    'private:a_b',
    'private:a,b',
  ]) {
    t.throws(() => parseNetworkOption(bad), { code: 'SPEC_INVALID' }, JSON.stringify(bad));
  }
  t.throws(() => parseNetworkOption(`private:${'a'.repeat(64)}`), { code: 'SPEC_INVALID' }, '64 characters');
  t.throws(() => parseNetworkOption('tap'), { message: /network 'tap' is not known/ });
});

t.test('normalizeSpec: private networks after user networking, MACs from the VM name', async (t) => {
  const spec = normalizeSpec({ name: 'web', kernel: '/k', networks: ['private:alpha', 'private:beta'] });
  t.equal(spec.network.user, true, 'user networking stays on');
  t.same(spec.network.private, [
    { name: 'alpha', mac: privateNetMac('web', 'alpha') },
    { name: 'beta', mac: privateNetMac('web', 'beta') },
  ]);
  t.same(normalizeSpec({ kernel: '/k' }).network.private, [], 'none by default');

  const only = normalizeSpec({ name: 'web', kernel: '/k', networks: ['none', 'private:alpha'] });
  t.equal(only.network.user, false, "'none' drops the user NIC");
  t.equal(only.network.private.length, 1);
  t.equal(normalizeSpec({ kernel: '/k', networks: ['user'] }).network.user, true);

  const given = normalizeSpec({
    kernel: '/k',
    network: { private: [{ name: 'alpha', mac: '0A:00:00:00:00:01' }] },
    networks: ['user'],
  });
  t.same(
    given.network.private,
    [{ name: 'alpha', mac: '0a:00:00:00:00:01' }],
    "the caller's MAC, lower-cased",
  );

  const cases: [Parameters<typeof normalizeSpec>[0], RegExp][] = [
    [{ kernel: '/k', networks: ['private:alpha'] }, /needs a VM name/],
    [{ name: 'w', kernel: '/k', networks: ['private:a', 'private:a'] }, /given twice/],
    [{ kernel: '/k', networks: ['user', 'none'] }, /both asked for and turned off/],
    [{ kernel: '/k', network: false, networks: ['user'] }, /both asked for and turned off/],
    [{ kernel: '/k', networks: ['none'], forwards: ['2222:22'] }, /need user networking/],
    [{ kernel: '/k', network: { private: [{ name: 'a', mac: '01:00:00:00:00:01' }] } }, /not a unicast/],
    [
      { kernel: '/k', network: { private: [{ name: 'A', mac: '02:00:00:00:00:01' }] } },
      /name 'A' is not valid/,
    ],
  ];
  for (const [input, message] of cases) {
    t.throws(() => normalizeSpec(input), { code: 'SPEC_INVALID', message }, String(message));
  }
});
