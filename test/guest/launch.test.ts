import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { alive, holdingTiny, shortTempDir, tinyGuest, useEnv } from '../fixtures/guests.js';

t.setTimeout(300_000);

t.test('x86_64: boots to the marker, runs, stops with a guest SHUTDOWN, leaves nothing', async (t) => {
  const tmp = shortTempDir(t);
  // os.tmpdir() points at `tmp` for this test, so what launch() leaves there can be checked.
  useEnv(t, { TMPDIR: tmp });
  const guest = await tinyGuest('x86_64');
  const vm = await launch(await holdingTiny('x86_64'));
  t.teardown(() => vm.kill());
  t.same(readdirSync(tmp), [], 'sockets and runtime dir are gone once connected');
  await vm.waitForSerial(guest.readyMarker, { timeout: 60_000 });
  await vm.waitForSerial('QLAUNCH-HOLDING', { timeout: 30_000 });
  const status = await vm.qmp.execute('query-status');
  t.equal(status.status, 'running');
  t.equal(status.running, true);
  const exit = await vm.stop({ timeout: 30_000 });
  t.equal(exit.how, 'guest-shutdown', 'the guest saw the power button and powered off');
  t.equal(exit.shutdownReason, 'guest-shutdown');
  t.equal(exit.exitCode, 0);
  t.match(vm.console.text(), /QLAUNCH-POWERDOWN/);
  t.notOk(alive(vm.pid), 'no QEMU process left');
  t.same(readdirSync(tmp), [], 'no temp files left');
  t.equal(await vm.stop(), exit, 'stop is idempotent');
});

t.test('aarch64: a virtio disk and user networking reach the guest', async (t) => {
  const guest = await tinyGuest('aarch64');
  const dir = t.testdir({ 'run.sh': 'echo hello-from-the-disk\n' });
  const disk = join(dir, 'disk.img');
  await execa('mkfs.vfat', ['-C', disk, '1440']);
  await execa('mcopy', ['-i', disk, join(dir, 'run.sh'), '::/run.sh']);
  const server = createServer((_req, res) => res.end('hello-from-the-host\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;
  await using vm = await launch({
    arch: 'aarch64',
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: `${guest.append} qlaunch.mount=/dev/vda qlaunch.net=1 qlaunch.fetch=http://10.0.2.2:${port}/`,
    disks: [{ path: disk, format: 'raw', readOnly: true }],
    memory: '256M',
    accel: 'tcg',
  });
  await vm.waitForSerial('hello-from-the-disk', { timeout: 60_000 });
  await vm.waitForSerial(/QLAUNCH-NET-OK (\S+)/, { timeout: 30_000 });
  await vm.waitForSerial('QLAUNCH-FETCH-OK', { timeout: 30_000 });
  const exit = await vm.exited;
  t.equal(exit.how, 'guest-shutdown', 'the guest powered itself off after its tasks');
});

t.test('riscv64: a guest that powers itself off is a guest shutdown, not a crash', async (t) => {
  const guest = await tinyGuest('riscv64');
  const vm = await launch({
    arch: 'riscv64',
    kernel: guest.kernel,
    initrd: guest.initrd,
    append: guest.append,
    memory: '256M',
    accel: 'tcg',
  });
  t.teardown(() => vm.kill());
  await vm.waitForSerial('QLAUNCH-POWEROFF', { timeout: 60_000 });
  // QEMU 7.2's riscv virt exits at the guest's power-off with status 0 and no SHUTDOWN event.
  t.match(await vm.exited, { how: 'guest-shutdown', exitCode: 0 });
});

t.test('a QEMU killed by SIGKILL is reported as such, and waits fail at once', async (t) => {
  const guest = await tinyGuest('x86_64');
  const vm = await launch(await holdingTiny('x86_64'));
  await vm.waitForSerial(guest.readyMarker, { timeout: 60_000 });
  const pending = vm.waitForSerial('this text never comes');
  process.kill(vm.pid, 'SIGKILL');
  await t.rejects(pending, { code: 'VM_EXITED', message: /killed by SIGKILL/ });
  const exit = await vm.exited;
  t.equal(exit.signal, 'SIGKILL');
  t.equal(exit.how, 'crashed');
  await t.rejects(vm.qmp.execute('query-status'), { code: /QMP_(CLOSED|STATE)/ });
});

t.test('bad input fails before QEMU starts, and QEMU start errors carry its stderr', async (t) => {
  const dir = t.testdir({ 'not-a-qcow2.qcow2': 'just text' });
  await t.rejects(launch({ kernel: join(dir, 'missing-kernel') }), {
    code: 'SPEC_FILE_MISSING',
    message: /kernel .*missing-kernel does not exist/,
  });
  await t.rejects(launch({ kernel: '/k', arch: 'sparc64' }), { code: 'SPEC_ARCH_UNSUPPORTED' });
  const tmp = shortTempDir(t);
  useEnv(t, { TMPDIR: tmp });
  await t.rejects(launch({ disks: [join(dir, 'not-a-qcow2.qcow2')], accel: 'tcg', arch: 'x86_64' }), {
    code: 'VM_START_FAILED',
    message: /QEMU said: .*qcow2/i,
  });
  t.same(readdirSync(tmp), [], 'nothing left behind after a failed start');
});

t.test('a forward asked for with host port 0 reports the port QEMU bound', async (t) => {
  const vm = await launch({
    ...(await holdingTiny('x86_64')),
    forwards: ['0:22', '127.0.0.1:0:80/udp'],
  });
  t.teardown(() => vm.kill());
  const forwards = await vm.listForwards();
  t.equal(forwards.length, 2);
  for (const f of forwards)
    t.ok(f.hostPort > 0, `${f.protocol} → guest ${f.guestPort} on host port ${f.hostPort}`);
  const tcp = forwards.find((f) => f.protocol === 'tcp');
  // QEMU itself listens there: a connection is accepted (the guest has nothing on 22 to answer it).
  await new Promise<void>((resolve, reject) =>
    connect(tcp?.hostPort ?? 0, '127.0.0.1')
      .once('connect', function (this: Socket) {
        this.destroy();
        resolve();
      })
      .once('error', reject),
  );
});
