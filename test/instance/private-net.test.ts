// Instances on private networks: two on one network reach each other, one on another network does not.

import { readFileSync } from 'node:fs';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { shortTempDir } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

t.test('private:alpha members ping each other; a private:beta member cannot reach them', async (t) => {
  const root = shortTempDir(t);
  const options = { root };
  const make = async (name: string, net: string, append: string, ready: string) => {
    const machine = await tinyMachineFile(root, { name, append: `${append} qlaunch.hold=1`, ready });
    const instance = await Instance.create(
      { name, machine, networks: [`private:${net}`], accel: 'tcg' },
      options,
    );
    t.teardown(() => Instance.destroy(name, { ...options, force: true }).catch(() => {}));
    return instance;
  };
  const a = await make('a', 'alpha', 'qlaunch.ip=10.77.0.1/24', 'QLAUNCH-HOLDING');
  const b = await make('b', 'alpha', 'qlaunch.ip=10.77.0.2/24 qlaunch.ping=10.77.0.1', 'QLAUNCH-HOLDING');
  const c = await make('c', 'beta', 'qlaunch.ip=10.77.0.3/24 qlaunch.ping=10.77.0.1', 'QLAUNCH-HOLDING');
  t.match((await a.info()).networks, ['alpha']);
  t.not(a.config.networks[0]?.mac, b.config.networks[0]?.mac, 'each member has its own MAC');

  // Each holds after its ping (tiny-init pings before it holds), so the ping's line is whole once it is ready.
  await a.start();
  // Two guests at a time at most: B, then C, each beside A.
  await b.start();
  t.match(readFileSync(b.paths.console, 'utf8'), /QLAUNCH-PING-OK 10\.77\.0\.1/, 'same network: reachable');
  await b.stop({ force: true });
  await c.start();
  t.match(
    readFileSync(c.paths.console, 'utf8'),
    /QLAUNCH-PING-FAIL 10\.77\.0\.1/,
    'other network: unreachable',
  );
  await c.stop({ force: true });
  await a.stop();
});
