// Private networks end to end: tiny guests on one name ping each other, a guest on another name cannot.

import t, { type Test } from 'tap';
import type { Guest } from '../../lib/guest/guest.js';
import { launch } from '../../lib/guest/launch.js';
import { alive, type TinyGuest, tinyGuest } from '../fixtures/guests.js';

// Up to two TCG guests at once on shared cores, plus a 10 s ping deadline in the failing case.
t.setTimeout(600_000);

// Per run, so two runs of this file at the same time never share a segment (or an address).
const alpha = `alpha-${process.pid}`;
const beta = `beta-${process.pid}`;

function boot(guest: TinyGuest, name: string, options: string, network: string): Promise<Guest> {
  return launch({
    name,
    arch: 'x86_64',
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: `${guest.append} ${options}`,
    networks: [`private:${network}`],
    memory: '256M',
    accel: 'tcg',
  });
}

/** Boot a guest that pings `target` and powers off; its verdict and the RTT line busybox printed. */
async function pingFrom(
  t: Test,
  guest: TinyGuest,
  name: string,
  address: string,
  network: string,
  target: string,
) {
  const started = Date.now();
  const vm = await boot(guest, name, `qlaunch.ip=${address}/24 qlaunch.ping=${target}`, network);
  t.teardown(() => vm.kill());
  await vm.waitForSerial(`QLAUNCH-IP-OK eth1 ${address}/24`, { timeout: 180_000 });
  const verdict = await vm.waitForSerial(
    new RegExp(`QLAUNCH-PING-(OK|FAIL) ${target.replaceAll('.', '\\.')}`),
    {
      timeout: 120_000,
    },
  );
  const rtt = /round-trip min\/avg\/max = (\S+) ms/.exec(vm.console.text())?.[1];
  const exit = await vm.exited;
  t.equal(exit.how, 'guest-shutdown', `${name} powered itself off`);
  t.notOk(alive(vm.pid), `no QEMU left for ${name}`);
  return { verdict: verdict.groups[0], rtt, seconds: (Date.now() - started) / 1000 };
}

t.test('x86_64: same network reaches, another network does not', async (t) => {
  const guest = await tinyGuest('x86_64');
  const a = await boot(guest, 'pn-a', 'qlaunch.ip=10.77.0.1/24 qlaunch.hold=1', alpha);
  t.teardown(() => a.kill());
  await a.waitForSerial('QLAUNCH-IP-OK eth1 10.77.0.1/24', { timeout: 180_000 });
  await a.waitForSerial('QLAUNCH-HOLDING', { timeout: 60_000 });

  const b = await pingFrom(t, guest, 'pn-b', '10.77.0.2', alpha, '10.77.0.1');
  t.equal(b.verdict, 'OK', `B on ${alpha} pings A`);
  t.comment(`B: boot to verdict ${b.seconds.toFixed(1)} s, ping min/avg/max ${b.rtt} ms`);

  const c = await pingFrom(t, guest, 'pn-c', '10.77.0.3', beta, '10.77.0.1');
  t.equal(c.verdict, 'FAIL', `C on ${beta} cannot reach A on ${alpha}`);
  t.equal(c.rtt, undefined, 'C got no reply at all');

  const exit = await a.stop({ timeout: 60_000 });
  t.equal(exit.how, 'guest-shutdown', 'A powered down on the power button');
  t.notOk(alive(a.pid), 'no QEMU left for A');
});
