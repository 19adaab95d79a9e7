import t from 'tap';
import { hostRoutes, parseRouteTable } from '../../lib/network/host-routes.js';
import { formatSubnet } from '../../lib/network/subnet.js';

const TABLE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0
eth1\t000200C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
`;

t.test('the routed subnets of /proc/net/route, without the default route or duplicates', async (t) => {
  t.same(parseRouteTable(TABLE).map(formatSubnet), ['192.0.2.0/24', '172.17.0.0/16', '10.0.0.0/8']);
  t.same(parseRouteTable(''), []);
  t.same(parseRouteTable('Iface\tDestination\nbroken line\n'), []);
});

t.test('a missing table reads as no routes', async (t) => {
  t.same(await hostRoutes('/nonexistent/route'), []);
  t.ok(Array.isArray(await hostRoutes()));
});
