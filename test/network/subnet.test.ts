import t from 'tap';
import {
  checkSubnet,
  chooseSubnet,
  formatSubnet,
  lowestFreeAddress,
  memberCapacity,
  overlaps,
  parseSubnet,
  routeConflict,
} from '../../lib/network/subnet.js';

const none = { routes: [], networks: [] };

t.test('parseSubnet reads CIDRs and refuses anything else with the fix', async (t) => {
  t.same(parseSubnet('10.20.30.0/24'), { base: 0x0a141e00, prefix: 24 });
  t.equal(formatSubnet(parseSubnet('192.168.7.8/29')), '192.168.7.8/29');
  for (const bad of [
    '10.20.30.0',
    '10.20.30/24',
    '10.20.300.0/24',
    '10.20.30.0/24/1',
    'lab',
    '010.1.1.0/24',
    '',
  ]) {
    t.throws(() => parseSubnet(bad), { code: 'NETWORK_SUBNET_INVALID', hint: /ADDRESS\/PREFIX/ }, bad);
  }
  t.throws(() => parseSubnet('10.0.0.0/33'), { code: 'NETWORK_SUBNET_INVALID', message: /over 32/ });
  t.throws(() => parseSubnet('10.20.30.5/24'), {
    code: 'NETWORK_SUBNET_INVALID',
    message: /host bits set/,
    hint: /10\.20\.30\.0\/24/,
  });
});

t.test('overlaps: containment either way, disjoint neighbours do not', async (t) => {
  t.ok(overlaps(parseSubnet('10.0.0.0/8'), parseSubnet('10.9.9.0/24')));
  t.ok(overlaps(parseSubnet('10.9.9.0/24'), parseSubnet('10.0.0.0/8')));
  t.notOk(overlaps(parseSubnet('10.9.9.0/24'), parseSubnet('10.9.10.0/24')));
  t.notOk(overlaps(parseSubnet('192.168.1.0/29'), parseSubnet('192.168.1.8/29')));
});

t.test(
  'checkSubnet: private, at least a /29, clear of the user network, host routes and other networks',
  async (t) => {
    t.same(checkSubnet('lab', '172.16.5.0/24', none), parseSubnet('172.16.5.0/24'));
    t.same(checkSubnet('lab', '192.168.50.0/29', none), parseSubnet('192.168.50.0/29'));
    t.throws(() => checkSubnet('lab', '8.8.8.0/24', none), {
      message: /not in private address space/,
      hint: /10\.0\.0\.0\/8/,
    });
    t.throws(() => checkSubnet('lab', '172.32.0.0/24', none), { message: /not in private address space/ });
    t.throws(() => checkSubnet('lab', '10.0.0.0/7', none), { message: /not in private address space/ });
    t.throws(() => checkSubnet('lab', '10.1.1.0/30', none), { message: /too small.*\/29/, hint: /\/24/ });
    t.throws(() => checkSubnet('lab', '10.0.0.0/16', none), {
      message: /overlaps 10\.0\.2\.0\/24, every guest's user-mode network/,
    });
    const routes = [parseSubnet('192.168.1.0/24')];
    t.throws(() => checkSubnet('lab', '192.168.0.0/16', { routes, networks: [] }), {
      code: 'NETWORK_SUBNET_INVALID',
      message: /overlaps the host's route to 192\.168\.1\.0\/24/,
      hint: /ip route/,
    });
    const networks = [{ name: 'web', subnet: parseSubnet('10.50.0.0/24') }];
    t.throws(() => checkSubnet('lab', '10.50.0.128/25', { routes: [], networks }), {
      message: /overlaps network web \(10\.50\.0\.0\/24\)/,
      hint: /network ls/,
    });
    t.same(
      checkSubnet('web', '10.50.0.0/24', { routes: [], networks }),
      parseSubnet('10.50.0.0/24'),
      'not against itself',
    );
  },
);

t.test('chooseSubnet: a /24 in 10/8 fixed by the name, skipping what is taken', async (t) => {
  const lab = chooseSubnet('lab', none);
  t.equal(lab.prefix, 24);
  t.equal(lab.base >>> 24, 10);
  t.same(chooseSubnet('lab', none), lab, 'the same name, the same subnet');
  t.not(formatSubnet(chooseSubnet('web', none)), formatSubnet(lab), 'other names mostly land elsewhere');
  const afterRoute = chooseSubnet('lab', { routes: [lab], networks: [] });
  t.notSame(afterRoute, lab);
  t.notOk(overlaps(afterRoute, lab));
  const afterNet = chooseSubnet('lab', { routes: [], networks: [{ name: 'web', subnet: lab }] });
  t.same(afterNet, afterRoute, 'another network holds it just as a route does');
  t.throws(() => chooseSubnet('lab', { routes: [parseSubnet('10.0.0.0/8')], networks: [] }), {
    code: 'NETWORK_SUBNET_INVALID',
    hint: /--subnet/,
  });
  // Never QEMU's user network, whatever the name.
  const chosen = Array.from({ length: 500 }, (_, i) => formatSubnet(chooseSubnet(`n${i}`, none)));
  t.notOk(chosen.includes('10.0.2.0/24'));
});

t.test('lowestFreeAddress: .1 kept, lowest gap first, none past broadcast', async (t) => {
  const s = parseSubnet('10.9.9.0/24');
  t.equal(lowestFreeAddress(s, []), '10.9.9.2');
  t.equal(lowestFreeAddress(s, ['10.9.9.2', '10.9.9.4']), '10.9.9.3');
  const small = parseSubnet('192.168.1.8/29');
  t.equal(memberCapacity(small), 5);
  const used = ['192.168.1.10', '192.168.1.11', '192.168.1.12', '192.168.1.13', '192.168.1.14'];
  t.equal(lowestFreeAddress(small, used.slice(0, 4)), '192.168.1.14');
  t.equal(lowestFreeAddress(small, used), undefined, '.15 is broadcast');
});

t.test('routeConflict: a route that now overlaps a recorded subnet', async (t) => {
  const routes = [parseSubnet('192.168.1.0/24'), parseSubnet('10.8.0.0/16')];
  t.same(routeConflict('10.8.3.0/24', routes), parseSubnet('10.8.0.0/16'));
  t.equal(routeConflict('10.9.3.0/24', routes), undefined);
});
