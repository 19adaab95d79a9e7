// The pure planner of host networks: which commands make and remove a bridge, its NAT table and members' taps,
// given what the host already has; names within IFNAMSIZ.

import t from 'tap';
import {
  bridgeName,
  type HostState,
  hostAddress,
  IFNAME_MAX,
  natTable,
  planBridgeDown,
  planBridgeUp,
  planTapsDown,
  planTapUp,
  tapName,
} from '../../lib/network/host-plan.js';

const empty: HostState = { links: new Set(['lo']), tables: new Set() };
const lab = { name: 'lab', subnet: '10.9.8.0/24', bridge: bridgeName('lab'), nat: false };

t.test('names fit IFNAMSIZ, differ per network and member, and are stable', async (t) => {
  t.equal(bridgeName('lab'), 'qlb-lab', 'a short name is readable');
  const long = 'a'.repeat(63);
  t.ok(bridgeName(long).length <= IFNAME_MAX, 'a 63-character name fits');
  t.not(
    bridgeName(`${'x'.repeat(20)}1`),
    bridgeName(`${'x'.repeat(20)}2`),
    'long names that share a start differ',
  );
  t.equal(bridgeName('elevenchars'), 'qlb-elevenchars', 'the longest plain name is 15 characters');
  t.equal(bridgeName('twelve-chars').length, IFNAME_MAX);
  t.ok(tapName(long, long).length <= IFNAME_MAX);
  t.not(tapName('lab', 'a'), tapName('lab', 'b'));
  t.not(tapName('lab', 'a'), tapName('web', 'a'));
  t.equal(tapName('lab', 'a'), tapName('lab', 'a'));
  t.match(tapName('lab', 'a'), /^qlt-[0-9a-f]{11}$/);
  t.equal(hostAddress('10.9.8.0/24'), '10.9.8.1/24', "the host holds the subnet's first address");
  t.equal(hostAddress('192.168.5.8/29'), '192.168.5.9/29');
});

t.test('a bridge without NAT: made when missing, its address and state restored when there', async (t) => {
  t.same(planBridgeUp(lab, empty), [
    ['ip', 'link', 'add', 'qlb-lab', 'type', 'bridge'],
    ['ip', 'address', 'replace', '10.9.8.1/24', 'dev', 'qlb-lab'],
    ['ip', 'link', 'set', 'qlb-lab', 'up'],
  ]);
  const there: HostState = { links: new Set(['lo', 'qlb-lab']), tables: new Set() };
  t.same(planBridgeUp(lab, there), [
    ['ip', 'address', 'replace', '10.9.8.1/24', 'dev', 'qlb-lab'],
    ['ip', 'link', 'set', 'qlb-lab', 'up'],
  ]);
  t.ok(
    planBridgeUp(lab, empty).every((argv) => argv[0] !== 'nft' && argv[0] !== 'sysctl'),
    'no NAT, no nft',
  );
  t.same(planBridgeDown(lab, [], there), [['ip', 'link', 'delete', 'qlb-lab']]);
  t.same(planBridgeDown(lab, [], empty), [], 'nothing there, nothing to remove');
});

t.test('NAT: its own table with a masquerade rule, made once, removed with the bridge', async (t) => {
  const nat = { ...lab, nat: true };
  t.equal(natTable('lab'), 'qlaunch-lab');
  const up = planBridgeUp(nat, empty);
  t.same(up.slice(3), [
    ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'],
    ['nft', 'add', 'table', 'ip', 'qlaunch-lab'],
    [
      'nft',
      'add',
      'chain',
      'ip',
      'qlaunch-lab',
      'postrouting',
      '{ type nat hook postrouting priority 100 ; }',
    ],
    ['nft', 'add', 'rule', 'ip', 'qlaunch-lab', 'postrouting'].concat([
      'ip',
      'saddr',
      '10.9.8.0/24',
      'ip',
      'daddr',
      '!=',
      '10.9.8.0/24',
      'masquerade',
    ]),
  ]);
  const made: HostState = {
    links: new Set(['qlb-lab', 'qlt-1']),
    tables: new Set(['ip qlaunch-lab', 'inet other']),
  };
  t.equal(planBridgeUp(nat, made).length, 2, 'a table already there is not made again');
  t.same(planBridgeDown(nat, ['qlt-1', 'qlt-2'], made), [
    ['ip', 'tuntap', 'del', 'dev', 'qlt-1', 'mode', 'tap'],
    ['nft', 'delete', 'table', 'ip', 'qlaunch-lab'],
    ['ip', 'link', 'delete', 'qlb-lab'],
  ]);
  t.ok(
    planBridgeDown(nat, [], made).every((argv) => !argv.includes('other')),
    "other tables are not qlaunch's to remove",
  );
});

t.test(
  "a member's tap: owned by QEMU's user, a port of the bridge; a stale one is removed first",
  async (t) => {
    t.same(planTapUp('qlt-a', 'qlb-lab', 64055, empty), [
      ['ip', 'tuntap', 'add', 'dev', 'qlt-a', 'mode', 'tap', 'user', '64055'],
      ['ip', 'link', 'set', 'qlt-a', 'master', 'qlb-lab'],
      ['ip', 'link', 'set', 'qlt-a', 'up'],
    ]);
    const stale: HostState = { links: new Set(['qlt-a']), tables: new Set() };
    t.same(planTapUp('qlt-a', 'qlb-lab', 0, stale)[0], [
      'ip',
      'tuntap',
      'del',
      'dev',
      'qlt-a',
      'mode',
      'tap',
    ]);
    t.same(planTapsDown(['qlt-a', 'qlt-b'], stale), [['ip', 'tuntap', 'del', 'dev', 'qlt-a', 'mode', 'tap']]);
  },
);
