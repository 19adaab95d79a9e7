import t from 'tap';
import { judgeRun, type PayloadRun, payloadArgv, payloadFor } from '../../lib/host/payload.js';
import { x86_64Payload } from '../../lib/host/payload-x86_64.js';

const run = (over: Partial<PayloadRun>): PayloadRun => ({
  exitCode: 67,
  signal: undefined,
  stdout: 'RPL',
  stderr: '',
  killed: undefined,
  elapsedMs: 40,
  ...over,
});

t.test('payloadFor: x86_64 and aarch64 have one, riscv64 not', async (t) => {
  t.equal(payloadFor('x86_64')?.arch, 'x86_64');
  t.equal(payloadFor('aarch64')?.arch, 'aarch64');
  t.equal(payloadFor('riscv64'), undefined);
});

t.test(
  'payloadArgv: the arch table machine, the accel and cpu asked for, no reboot on triple fault',
  async (t) => {
    t.same(payloadArgv(x86_64Payload, '/p.bin', { accel: 'kvm', cpu: 'host,-arch-capabilities' }), [
      ...['-machine', 'q35', '-accel', 'kvm', '-cpu', 'host,-arch-capabilities', '-m', '16'],
      ...['-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot'],
      ...['-bios', '/p.bin', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
    ]);
    const aarch64 = payloadFor('aarch64');
    if (!aarch64) throw new Error('aarch64 payload missing');
    const args = payloadArgv(aarch64, '/p.bin', { accel: 'tcg', cpu: 'cortex-a57' });
    t.same(args.slice(0, 2), ['-machine', 'virt,gic-version=max']);
    t.same(args.slice(-2), ['-kernel', '/p.bin']);
  },
);

t.test('judgeRun: complete only with every marker in order and the payload exit status', async (t) => {
  t.same(judgeRun(x86_64Payload, run({})), { completed: true, lastStage: 'long mode with paging' });
  t.same(
    judgeRun(x86_64Payload, run({ stdout: 'R', killed: 'deadline', exitCode: undefined, signal: 'SIGKILL' })),
    {
      completed: false,
      lastStage: 'real mode',
    },
  );
  t.same(judgeRun(x86_64Payload, run({ stdout: 'RP', exitCode: 0 })), {
    completed: false,
    lastStage: 'protected mode',
  });
  t.same(judgeRun(x86_64Payload, run({ stdout: '', exitCode: 1 })), {
    completed: false,
    lastStage: undefined,
  });
  t.same(
    judgeRun(x86_64Payload, run({ stdout: 'LPR' })),
    { completed: false, lastStage: 'real mode' },
    'order counts',
  );
  t.same(judgeRun(x86_64Payload, run({ exitCode: 1 })), {
    completed: false,
    lastStage: 'long mode with paging',
  });
  t.equal(judgeRun(x86_64Payload, run({ killed: 'deadline' })).completed, false, 'killed is never complete');
});
