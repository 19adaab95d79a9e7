// The one stop policy: each step only when the one before did not end QEMU (stand-ins for the order and the
// fallbacks), and real tiny guests of each arch stopped through it by launch().
import { EventEmitter } from 'node:events';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import type { QemuExit, QemuProcess } from '../../lib/guest/process.js';
import { STOP_DEFAULTS, type StopHow, stopQemu } from '../../lib/guest/stop.js';
import { silentLogger } from '../../lib/logger.js';
import { type QmpClient, QmpClosedError } from '../../lib/qmp/index.js';
import { alive, holdingTiny } from '../fixtures/guests.js';

t.setTimeout(300_000);

/** A QEMU stand-in that ends on the step named in `endsOn`, recording what it was asked. */
function standIn(endsOn: 'powerdown' | 'silent-powerdown' | 'quit' | 'SIGTERM' | 'SIGKILL' | 'never') {
  const asked: string[] = [];
  const events = new EventEmitter();
  let resolveExit: (exit: QemuExit) => void = () => {};
  let running = true;
  const exited = new Promise<QemuExit>((resolve) => {
    resolveExit = resolve;
  });
  const end = () => {
    running = false;
    resolveExit({ exitCode: 0, signal: null, stderr: '' });
  };
  const process: QemuProcess = {
    pid: 4242,
    exited,
    get running() {
      return running;
    },
    kill: (signal = 'SIGKILL') => {
      asked.push(signal);
      if (signal === endsOn) end();
    },
    stderr: () => '',
  };
  let cursor = 0;
  const qmp = {
    eventCursor: () => cursor,
    execute: async (command: string) => {
      asked.push(command);
      if (command === 'system_powerdown' && endsOn === 'powerdown') {
        cursor++;
        setTimeout(() => {
          events.emit('SHUTDOWN');
          end();
        }, 5);
      }
      // QEMU 7.2's riscv virt exits at the guest's power-off with no SHUTDOWN event: QMP closes, then the process ends.
      if (command === 'system_powerdown' && endsOn === 'silent-powerdown') {
        setTimeout(() => {
          events.emit('CLOSED');
          setTimeout(end, 5);
        }, 5);
      }
      if (command === 'quit' && endsOn === 'quit') setTimeout(end, 5);
      return {};
    },
    waitFor: (name: string, options: { timeout: number }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${name}`)), options.timeout);
        events.once(name, () => {
          clearTimeout(timer);
          resolve({ event: name });
        });
        events.once('CLOSED', () => {
          clearTimeout(timer);
          reject(new QmpClosedError(`the connection to QMP stream closed while waiting for event ${name}`));
        });
      }),
  } as unknown as QmpClient;
  return { process, qmp, asked };
}

t.test('each step runs only when the one before did not end QEMU', async (t) => {
  const cases: [Parameters<typeof standIn>[0], StopHow, string[]][] = [
    ['powerdown', 'guest-shutdown', ['system_powerdown']],
    ['silent-powerdown', 'guest-shutdown', ['system_powerdown']],
    ['quit', 'quit', ['system_powerdown', 'quit']],
    ['SIGTERM', 'terminated', ['system_powerdown', 'quit', 'SIGTERM']],
    ['SIGKILL', 'killed', ['system_powerdown', 'quit', 'SIGTERM', 'SIGKILL']],
  ];
  for (const [endsOn, how, asked] of cases) {
    const qemu = standIn(endsOn);
    const steps: string[] = [];
    const result = await stopQemu(
      {
        process: qemu.process,
        qmp: qemu.qmp,
        powerButton: true,
        paused: false,
        logger: silentLogger,
        onStep: (step) => steps.push(step),
      },
      { timeout: 50 },
    );
    t.equal(result, how, `ends on ${endsOn}: ${how}`);
    t.same(qemu.asked, asked, `asked in order: ${asked.join(' → ')}`);
  }
});

t.test('a stop that is over leaves no timer behind to hold the process open', async (t) => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const qemu = standIn('quit');
  t.equal(
    await stopQemu(
      { process: qemu.process, qmp: qemu.qmp, powerButton: true, paused: false, logger: silentLogger },
      { force: true },
    ),
    'quit',
  );
  t.equal(timers(), before, 'the 3 s wait for QEMU to go ended with QEMU (a CLI run exited 3 s late)');
});

t.test('force and a paused guest skip the guest; no QMP goes straight to signals', async (t) => {
  const forced = standIn('quit');
  t.equal(
    await stopQemu(
      { process: forced.process, qmp: forced.qmp, powerButton: true, paused: false, logger: silentLogger },
      { force: true },
    ),
    'quit',
  );
  t.same(forced.asked, ['quit'], 'forced: quit at once');
  const paused = standIn('quit');
  await stopQemu({
    process: paused.process,
    qmp: paused.qmp,
    powerButton: true,
    paused: true,
    logger: silentLogger,
  });
  t.same(paused.asked, ['quit'], 'paused: it cannot act on a power button');
  const noQmp = standIn('SIGTERM');
  t.equal(
    await stopQemu({
      process: noQmp.process,
      qmp: undefined,
      powerButton: true,
      paused: false,
      logger: silentLogger,
    }),
    'terminated',
  );
  t.same(noQmp.asked, ['SIGTERM'], 'without QMP: SIGTERM, which QEMU takes as a clean quit');
  const noButton = standIn('quit');
  await stopQemu(
    { process: noButton.process, qmp: noButton.qmp, powerButton: false, paused: false, logger: silentLogger },
    { timeout: 50 },
  );
  t.same(noButton.asked, ['quit'], 'no power button and no agent: quit');
  t.equal(STOP_DEFAULTS.timeout, 30_000, 'the documented default');
});

for (const [arch, how] of [
  ['x86_64', 'guest-shutdown'],
  ['aarch64', 'guest-shutdown'],
  // riscv64's virt machine has no power button and the tiny guest no agent: QEMU is told to quit.
  ['riscv64', 'quit'],
] as const) {
  t.test(`${arch}: launch() guests stop by the one policy`, async (t) => {
    const vm = await launch(await holdingTiny(arch));
    t.teardown(() => vm.kill());
    await vm.waitForSerial('QLAUNCH-HOLDING', { timeout: 120_000 });
    const exit = await vm.stop();
    t.equal(exit.how, how);
    t.notOk(alive(vm.pid), 'no QEMU left');
    t.equal((await vm.exited).how, how, 'the exit tells the same');
  });
}

t.test('a signal sent to QEMU from outside qlaunch is reported as that signal, not as a stop', async (t) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const vm = await launch(await holdingTiny('x86_64'));
    t.teardown(() => vm.kill());
    await vm.waitForSerial('QLAUNCH-HOLDING', { timeout: 120_000 });
    process.kill(vm.pid, signal);
    const exit = await vm.exited;
    t.match(exit, { how: 'signalled', hostSignal: signal, shutdownReason: 'host-signal' }, signal);
    t.notOk(alive(vm.pid), 'no QEMU left');
  }
});
