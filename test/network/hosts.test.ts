// The /etc/hosts block of private networks: which names each member gets, and how the block replaces its old self.

import t from 'tap';
import { HOSTS_BEGIN, HOSTS_END, hostsLines, withHostsBlock } from '../../lib/network/hosts.js';
import type { NetworkRecord } from '../../lib/network/record.js';

const net = (name: string, members: Record<string, string>): NetworkRecord => ({
  schema: 1,
  name,
  subnet: '10.0.0.0/24',
  created: '2026-12-06T00:00:00.000Z',
  members: Object.fromEntries(
    Object.entries(members).map(([member, address]) => [member, { address, mac: '02:00:00:00:00:01' }]),
  ),
});

t.test('a member gets every member of its networks, by NAME on the first and NAME.NET on each', async (t) => {
  const lab = net('lab', { pb: '10.1.0.3', pa: '10.1.0.2' });
  const db = net('db', { pa: '10.2.0.2', pd: '10.2.0.3' });
  const other = net('other', { px: '10.3.0.2' });
  t.same(hostsLines('pa', [lab, db, other]), [
    '10.1.0.2\tpa pa.lab',
    '10.1.0.3\tpb pb.lab',
    '10.2.0.2\tpa.db',
    '10.2.0.3\tpd pd.db',
  ]);
  t.same(hostsLines('pb', [lab, db, other]), ['10.1.0.2\tpa pa.lab', '10.1.0.3\tpb pb.lab'], 'not db');
  t.same(hostsLines('px', [lab, db, other]), ['10.3.0.2\tpx px.other'], 'nothing of lab');
  t.same(hostsLines('nobody', [lab]), [], 'not a member: no lines');
});

t.test('the block is added once, replaced whole, and removed when empty; the rest is kept', async (t) => {
  const base = '127.0.0.1\tlocalhost\n127.0.1.1\tpa\n';
  const one = withHostsBlock(base, ['10.1.0.2\tpa']);
  t.equal(one, `${base}${HOSTS_BEGIN}\n10.1.0.2\tpa\n${HOSTS_END}\n`);
  const two = withHostsBlock(`${one}192.0.2.9\tmine\n`, ['10.1.0.2\tpa', '10.1.0.3\tpb']);
  t.equal(two, `${base}192.0.2.9\tmine\n${HOSTS_BEGIN}\n10.1.0.2\tpa\n10.1.0.3\tpb\n${HOSTS_END}\n`);
  t.equal(withHostsBlock(two, ['10.1.0.2\tpa', '10.1.0.3\tpb']), two, 'the same lines: the same file');
  t.equal(withHostsBlock(two, []), `${base}192.0.2.9\tmine\n`, 'no lines: no block');
  t.equal(withHostsBlock('', []), '', 'empty stays empty');
  t.equal(
    withHostsBlock('127.0.0.1 localhost', ['x']),
    `127.0.0.1 localhost\n${HOSTS_BEGIN}\nx\n${HOSTS_END}\n`,
  );
});

t.test('a block cut short loses only its begin marker, never the lines after it', async (t) => {
  const cut = `127.0.0.1\tlocalhost\n${HOSTS_BEGIN}\n10.1.0.2\tpa\n192.0.2.9\tmine\n`;
  t.equal(
    withHostsBlock(cut, ['10.1.0.3\tpb']),
    `127.0.0.1\tlocalhost\n10.1.0.2\tpa\n192.0.2.9\tmine\n${HOSTS_BEGIN}\n10.1.0.3\tpb\n${HOSTS_END}\n`,
  );
});
