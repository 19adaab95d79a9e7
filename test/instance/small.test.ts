import { writeFileSync } from 'node:fs';
import t from 'tap';
import { parseUsernetForwards } from '../../lib/guest/ports/usernet.js';
import { stableMac } from '../../lib/instance/mac.js';
import { parseBridgeOptions, parseNetworks } from '../../lib/network/options.js';

t.test('stable MACs: locally administered unicast, one per seed', async (t) => {
  const mac = stableMac('dev/user');
  t.match(mac, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
  t.equal(stableMac('dev/user'), mac);
  t.not(stableMac('dev/private/lab'), mac);
  const first = Number.parseInt(mac.slice(0, 2), 16);
  t.equal(first & 0x03, 0x02, 'local bit set, multicast bit clear');
});

t.test('--network values', async (t) => {
  t.same(parseNetworks([]), []);
  t.same(parseNetworks(['user', 'private:lab', 'private:db', 'private:lab']), ['lab', 'db']);
  // A host bridge is not a private network: accepted here, joined through bridge:BR's own path.
  t.same(parseNetworks(['bridge:br0', 'private:lab']), ['lab']);
  t.same(parseBridgeOptions(['bridge:br0', 'private:lab', 'bridge:br0']), ['br0']);
  for (const bad of ['private:', 'private:Lab', 'bridge:', 'bridge:a b', 'lab', 'private:a b']) {
    t.throws(() => parseNetworks([bad]), { code: 'SPEC_INVALID' }, bad);
  }
  t.throws(() => parseNetworks(['none']), { code: 'SPEC_INVALID', message: /always have user networking/ });
});

t.test('host forwards from `info usernet`', async (t) => {
  // As QEMU 7.2 prints it (slirp 4.7), with an established connection that is not a forward.
  const text = [
    'Hub -1 (net0):',
    '  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ',
    '  TCP[HOST_FORWARD]  14       127.0.0.1 20071       10.0.2.15    80     0     0',
    '  TCP[HOST_FORWARD]  13               * 18080       10.0.2.15    22     0     0',
    '  UDP[HOST_FORWARD]  15       127.0.0.1  5353       10.0.2.15    53     0     0',
    '  TCP[ESTABLISHED]   16       10.0.2.15 41234       127.0.0.1 20071     0     0',
  ].join('\r\n');
  t.same(parseUsernetForwards(text), [
    { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 20071, guestPort: 80 },
    { protocol: 'tcp', hostAddress: '0.0.0.0', hostPort: 18080, guestPort: 22 },
    { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 },
  ]);
  t.same(parseUsernetForwards(''), []);
});

t.test('the current boot starts after the last boot line in the console log', async (t) => {
  const { lastBootOffset, bootLine } = await import('../../lib/guest/console/console-log.js');
  const dir = t.testdir();
  const path = `${dir}/console.log`;
  t.equal(await lastBootOffset(path), 0, 'no log yet');
  const first = `${bootLine(new Date(0))}old boot READY\n`;
  const second = bootLine(new Date(1000));
  writeFileSync(path, `${first}${second}new boot`);
  t.equal(await lastBootOffset(path), first.length + second.length);
  writeFileSync(path, 'no boot line at all');
  t.equal(await lastBootOffset(path), 0);
});
