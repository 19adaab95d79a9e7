import { join } from 'node:path';
import t from 'tap';
import { createKeyPair } from '../../../lib/cloud/ssh-key.js';
import { ErrorCode, isQlaunchError, QlaunchError } from '../../../lib/errors.js';
import {
  BACKOFF,
  cloudInitStep,
  defaultReadyTimeout,
  nextDelay,
  parseCloudInitStatus,
  waitForCloudInit,
  waitForSsh,
  waitReady,
} from '../../../lib/guest/access/ready.js';
import {
  consoleGuest,
  DEFAULT_FIRST_OUTPUT_MS,
  firstOutputBound,
  type ReadyGuest,
} from '../../../lib/guest/access/ready-guest.js';
import type { SshResult } from '../../../lib/guest/access/ssh.js';
import type { SshTarget } from '../../../lib/guest/access/ssh-args.js';
import { SerialConsole } from '../../../lib/guest/console/serial.js';
import { launch } from '../../../lib/guest/launch.js';
import { tinyGuest } from '../../fixtures/guests.js';
import { deadPort } from '../../fixtures/ports.js';

t.setTimeout(240_000);

async function deadTarget(dir: string): Promise<SshTarget> {
  const { privateKey } = await createKeyPair(join(dir, 'ssh'));
  return { host: '127.0.0.1', port: await deadPort(), user: 'debian', privateKey };
}

const result = (stdout: string, exitCode: number, stderr = ''): SshResult => ({
  stdout,
  stderr,
  exitCode,
  connectionFailed: exitCode === 255,
});

t.test('parseCloudInitStatus: the last status line, with exit status 2 meaning degraded', async (t) => {
  t.equal(parseCloudInitStatus('\nstatus: done\n', 0), 'done');
  t.equal(parseCloudInitStatus('.....\nstatus: done\n', 0), 'done', 'the dots --wait prints');
  t.equal(parseCloudInitStatus('status: done\n', 2), 'degraded', 'cloud-init ≥ 23.4');
  t.equal(parseCloudInitStatus('status: degraded done\n', 0), 'degraded');
  t.equal(parseCloudInitStatus('status: error\n', 1), 'error');
  t.equal(parseCloudInitStatus('status: error\ntime: x\ndetail:\nboom', 1), 'error', '--long output');
  t.equal(parseCloudInitStatus('status: disabled\n', 0), 'disabled');
  t.equal(parseCloudInitStatus('status: running\n', 0), 'running');
  t.equal(parseCloudInitStatus('status: not run\n', 0), 'running');
  t.equal(parseCloudInitStatus('status: degraded running\n', 0), 'running');
  t.equal(parseCloudInitStatus('status: running\nstatus: done\r\n', 0), 'done');
  t.equal(parseCloudInitStatus('', 127), undefined);
  t.equal(parseCloudInitStatus('usage: cloud-init [-h]\n', 2), undefined);
});

t.test('cloudInitStep: finish, fail, retry a lost connection, fall back without a status line', async (t) => {
  t.same(cloudInitStep(result('status: done\n', 0)), { kind: 'finished', status: 'done' });
  t.same(cloudInitStep(result('status: done\n', 2)), { kind: 'finished', status: 'degraded' });
  t.same(cloudInitStep(result('status: disabled\n', 0)), { kind: 'finished', status: 'disabled' });
  t.same(cloudInitStep(result('status: error\n', 1)), { kind: 'failed' });
  t.same(cloudInitStep(result('..', 255, 'Connection closed by 127.0.0.1 port 2222\n')), {
    kind: 'retry',
    problem: 'Connection closed by 127.0.0.1 port 2222',
  });
  t.same(cloudInitStep(result('', 255)), { kind: 'retry', problem: 'ssh failed' });
  t.equal(cloudInitStep(result('status: running\n', 0)).kind, 'retry');
  t.same(cloudInitStep(result('', 127, 'bash: cloud-init: command not found')), { kind: 'fallback' });
  t.same(cloudInitStep(result('', 2, "invalid choice: 'status'")), { kind: 'fallback' });
});

t.test('backoff doubles from 250 ms to a 2 s ceiling; default timeouts by accelerator', async (t) => {
  const delays = [BACKOFF.firstMs as number];
  while (delays.length < 6) delays.push(nextDelay(delays.at(-1)!));
  t.same(delays, [250, 500, 1000, 2000, 2000, 2000]);
  t.equal(defaultReadyTimeout('tcg'), 300_000);
  t.equal(defaultReadyTimeout('kvm'), 120_000);
});

t.test('waitForSsh: a failFast rejection ends a wait on a dead port at once, with that error', async (t) => {
  const target = await deadTarget(t.testdir());
  const boom = new QlaunchError(ErrorCode.VM_EXITED, 'QEMU exited with status 1');
  const failFast = new Promise((_, reject) => setTimeout(() => reject(boom), 300));
  const started = Date.now();
  const error = await waitForSsh(target, { deadline: Date.now() + 60_000, failFast }).catch(
    (e: unknown) => e,
  );
  const elapsed = Date.now() - started;
  t.equal(error, boom, 'the failFast error itself');
  t.ok(elapsed < 1500, `ended ${elapsed} ms after start (failFast at 300 ms)`);
});

t.test(
  'waitForSsh: the deadline passing is VM_TIMEOUT with the last ssh error and the console tail',
  async (t) => {
    const target = await deadTarget(t.testdir());
    const started = Date.now();
    const error = await waitForSsh(target, {
      deadline: Date.now() + 1500,
      consoleTail: () => 'Debian GNU/Linux 12 guest ttyS0\nguest login:',
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    t.ok(isQlaunchError(error, ErrorCode.VM_TIMEOUT), String(error));
    t.match((error as Error).message, /waiting for SSH on 127\.0\.0\.1:\d+ to accept the key of debian/);
    t.match((error as Error).message, /last: .*Connection refused/);
    t.match((error as Error).message, /last console lines:\nDebian GNU\/Linux 12 guest ttyS0\nguest login:$/);
    t.match((error as QlaunchError).hint, /raise the timeout/);
    t.ok(elapsed >= 1400 && elapsed < 3000, `took ${elapsed} ms for a 1500 ms deadline`);
  },
);

t.test('waitForSsh: aborting is VM_ABORTED; an unreadable key fails before any ssh run', async (t) => {
  const target = await deadTarget(t.testdir());
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  await t.rejects(waitForSsh(target, { deadline: Date.now() + 60_000, signal: controller.signal }), {
    code: ErrorCode.VM_ABORTED,
  });
  await t.rejects(waitForSsh(target, { deadline: Date.now() + 60_000, signal: AbortSignal.abort() }), {
    code: ErrorCode.VM_ABORTED,
  });
  await t.rejects(
    waitForSsh({ ...target, privateKey: '/nonexistent/key' }, { deadline: Date.now() + 1000 }),
    {
      code: ErrorCode.SPEC_FILE_MISSING,
    },
  );
});

t.test('waitForCloudInit: on a dead port it keeps asking until the deadline', async (t) => {
  const target = await deadTarget(t.testdir());
  await t.rejects(waitForCloudInit(target, { deadline: Date.now() + 800 }), {
    code: ErrorCode.VM_TIMEOUT,
    message: /waiting for cloud-init to finish .*last: .*Connection refused/,
  });
});

/** Whether `promise` settles within `ms`. */
const settlesWithin = (promise: Promise<unknown>, ms: number) =>
  Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
  ]);

t.test(
  'consoleGuest: a kernel panic fails with its whole trace; the console ending fails; abort stops watching',
  async (t) => {
    const serial = new SerialConsole();
    const watching = consoleGuest(serial).watchFailure(new AbortController().signal);
    serial.push(
      Buffer.from(
        '[    1.0] VFS: Cannot open root device\n[    1.1] Kernel panic - not syncing: VFS: Unable',
      ),
    );
    serial.push(
      Buffer.from(
        ' to mount root fs\n[    1.2] Call Trace:\n[    1.3] ---[ end Kernel panic - not syncing ]---\n',
      ),
    );
    const error = await watching.catch((e: unknown) => e);
    t.ok(isQlaunchError(error, ErrorCode.VM_KERNEL_PANIC));
    t.match((error as Error).message, /Call Trace:\n.*end Kernel panic/);

    const ended = new SerialConsole();
    const guest = consoleGuest(ended);
    const exitWatch = guest.watchFailure(new AbortController().signal);
    ended.push(Buffer.from('reboot: Power down\n'));
    ended.end(new QlaunchError(ErrorCode.VM_EXITED, 'QEMU exited with status 0'));
    const exited = await exitWatch.catch((e: unknown) => e);
    t.ok(isQlaunchError(exited, ErrorCode.VM_EXITED));
    t.match(
      (exited as Error).message,
      /stopped before it was ready: QEMU exited with status 0\nlast console lines:\nreboot: Power down/,
    );
    t.equal(guest.consoleTail(), 'reboot: Power down');

    const quiet = new SerialConsole();
    const controller = new AbortController();
    const stopped = consoleGuest(quiet).watchFailure(controller.signal);
    controller.abort();
    quiet.push(Buffer.from('Kernel panic - not syncing\n'));
    t.notOk(await settlesWithin(stopped, 200), 'an aborted watch never settles');
  },
);

t.test(
  'consoleGuest: a disk boot silent past its bound is VM_NOTHING_TO_BOOT; any output ends that watch',
  async (t) => {
    const silent = new SerialConsole();
    const error = await consoleGuest(silent, {}, undefined, 50)
      .watchFailure(new AbortController().signal)
      .catch((e: unknown) => e);
    t.ok(isQlaunchError(error, ErrorCode.VM_NOTHING_TO_BOOT));
    t.match(error, { message: /nothing on its serial console within 0\.05 s/, hint: /nothing to boot/ });

    const speaks = new SerialConsole();
    const watch = consoleGuest(speaks, {}, undefined, 50).watchFailure(new AbortController().signal);
    speaks.push(Buffer.from('G'));
    t.notOk(await settlesWithin(watch, 200), 'one byte of output: the guest booted something');
    t.notOk(
      await settlesWithin(consoleGuest(new SerialConsole()).watchFailure(new AbortController().signal), 200),
      'no bound given (a kernel boot): silence is no failure',
    );
    t.equal(firstOutputBound(true, undefined), DEFAULT_FIRST_OUTPUT_MS);
    t.equal(firstOutputBound(true, 5000), 5000);
    t.equal(firstOutputBound(true, false), undefined);
    t.equal(firstOutputBound(false, 5000), undefined, 'a kernel boot has no bound');
  },
);

t.test(
  'waitReady: the guest failing ends the wait at once; the failure watch is stopped afterwards',
  async (t) => {
    const target = await deadTarget(t.testdir());
    let watchSignal: AbortSignal | undefined;
    let sshdSignal: AbortSignal | undefined;
    const guest: ReadyGuest = {
      consoleTail: () => 'tail',
      watchFailure: (signal) => {
        watchSignal = signal;
        return new Promise((_, reject) =>
          setTimeout(() => reject(new QlaunchError(ErrorCode.VM_KERNEL_PANIC, 'panicked')), 300),
        );
      },
      watchSshd: (signal) => {
        sshdSignal = signal;
        return new Promise(() => {});
      },
    };
    const started = Date.now();
    await t.rejects(waitReady(guest, target, { accel: 'tcg' }), { code: ErrorCode.VM_KERNEL_PANIC });
    t.ok(Date.now() - started < 1500, `ended after ${Date.now() - started} ms`);
    t.equal(watchSignal?.aborted, true, 'watch stopped');
    t.equal(sshdSignal?.aborted, true, 'sshd watch stopped');

    const timeoutGuest: ReadyGuest = {
      consoleTail: () => 'guest tail',
      watchFailure: () => new Promise(() => {}),
      watchSshd: () => new Promise(() => {}),
    };
    await t.rejects(waitReady(timeoutGuest, target, { accel: 'kvm', timeout: 700 }), {
      code: ErrorCode.VM_TIMEOUT,
      message: /last console lines:\nguest tail/,
    });
  },
);

t.test(
  'waitReady on a real guest whose kernel panics: VM_KERNEL_PANIC with the trace, in seconds',
  async (t) => {
    const guest = await tinyGuest('x86_64');
    const target = await deadTarget(t.testdir());
    // No initrd and no root disk: the kernel cannot mount a root and panics; panic=0 keeps it from rebooting.
    const vm = await launch({
      kernel: guest.kernel,
      append: 'console=ttyS0 panic=0',
      memory: '256M',
      accel: 'tcg',
    });
    t.teardown(() => vm.kill());
    const started = Date.now();
    const error = await waitReady(consoleGuest(vm.console), target, { accel: 'tcg' }).catch(
      (e: unknown) => e,
    );
    t.ok(isQlaunchError(error, ErrorCode.VM_KERNEL_PANIC), String(error));
    t.match((error as Error).message, /Kernel panic - not syncing/);
    t.comment(`panic seen ${Date.now() - started} ms after launch`);
    t.ok(vm.running, 'the VM itself is left to its owner');
  },
);
