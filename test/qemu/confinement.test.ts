import t from 'tap';
import { chooseRunAsUser, userIdsIn } from '../../lib/host/run-as.js';
import { normalizeSpec } from '../../lib/machine/spec.js';
import { buildQemuArgv } from '../../lib/qemu/argv.js';
import { confinementWarnings } from '../../lib/qemu/confinement.js';

const spec = normalizeSpec({ arch: 'x86_64', kernel: '/k/vmlinux' });
const plan = {
  spec,
  binary: 'qemu-system-x86_64',
  accel: { accel: 'tcg' as const },
  qmpSocket: '/run/q/qmp.sock',
  serialSocket: '/run/q/serial.sock',
};
const after = (args: string[], flag: string) =>
  args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;

t.test('every machine keeps guest RAM out of core dumps', async (t) => {
  for (const arch of ['x86_64', 'aarch64', 'riscv64'] as const) {
    const { args } = buildQemuArgv({ ...plan, spec: normalizeSpec({ arch, kernel: '/k/vmlinux' }) });
    const machine = args.flatMap((a, i) => (a === '-machine' ? [args[i + 1]] : []));
    t.ok(machine.includes('dump-guest-core=off'), arch);
  }
});

t.test('the seccomp filter as libvirt sets it, and QEMU keeping its user', async (t) => {
  const { args } = buildQemuArgv({ ...plan, confinement: { sandbox: true } });
  t.equal(after(args, '-sandbox'), 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny');
  t.notOk(args.includes('-runas'));
  t.notOk(args.includes('-trace'));
});

t.test('dropping to a user: -runas, and set*id allowed for the drop itself', async (t) => {
  const { args } = buildQemuArgv({ ...plan, confinement: { sandbox: true, runAs: 'nobody' } });
  t.equal(after(args, '-runas'), 'nobody');
  t.equal(
    after(args, '-sandbox'),
    'on,obsolete=deny,elevateprivileges=allow,spawn=deny,resourcecontrol=deny',
    'QEMU calls setuid() after installing the filter: denying it kills QEMU',
  );
  t.notOk(args.includes('-trace'), 'without a pidfile nothing needs the shutdown logged');
  const instance = buildQemuArgv({
    ...plan,
    pidFile: '/i/qemu.pid',
    confinement: { sandbox: true, runAs: 'nobody' },
  }).args;
  t.equal(after(instance, '-trace'), 'enable=qemu_system_shutdown_request', 'the log says a clean exit');
});

t.test('opt-outs: no filter, no drop, or no confinement at all', async (t) => {
  const runAs = buildQemuArgv({ ...plan, confinement: { sandbox: false, runAs: 'nobody' } }).args;
  t.notOk(runAs.includes('-sandbox'));
  t.equal(after(runAs, '-runas'), 'nobody');
  for (const confinement of [{ sandbox: false }, undefined]) {
    const { args } = buildQemuArgv({ ...plan, pidFile: '/i/qemu.pid', confinement });
    t.notOk(args.includes('-sandbox') || args.includes('-runas') || args.includes('-trace'));
  }
});

t.test('the user to drop to: a dedicated one first, else nobody', async (t) => {
  const line = (name: string, uid: number) => `${name}:x:${uid}:${uid}::/nonexistent:/usr/sbin/nologin`;
  const base = [line('root', 0), line('nobody', 65534)];
  t.equal(chooseRunAsUser(base.join('\n')), 'nobody');
  t.equal(chooseRunAsUser([...base, line('libvirt-qemu', 64055)].join('\n')), 'libvirt-qemu');
  t.equal(
    chooseRunAsUser([...base, line('libvirt-qemu', 64055), line('qlaunch', 990)].join('\n')),
    'qlaunch',
  );
  t.equal(chooseRunAsUser(line('root', 0)), undefined);
  t.equal(chooseRunAsUser(line('nobodyelse', 5)), undefined, 'a whole name, not a prefix');
});

t.test("the ids -runas drops to: the user's uid and primary gid, whole names only", async (t) => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
  ];
  t.same(userIdsIn(passwd.join('\n'), 'nobody'), { uid: 65534, gid: 65534 });
  t.same(
    userIdsIn('qlaunch:x:990:44::/:/bin/false', 'qlaunch'),
    { uid: 990, gid: 44 },
    'the primary gid, not the uid',
  );
  t.equal(userIdsIn(passwd.join('\n'), 'nobod'), undefined, 'a whole name, not a prefix');
  t.equal(userIdsIn('broken:x::', 'broken'), undefined, 'no ids, no answer');
});

t.test('each opt-out says what it gives up', async (t) => {
  t.same(confinementWarnings({}, true), []);
  t.match(confinementWarnings({ sandbox: false }, false), [/--no-sandbox.*seccomp/]);
  t.match(confinementWarnings({ runAsRoot: true }, true), [/--run-as-root.*root/]);
  t.same(confinementWarnings({ runAsRoot: true }, false), [], 'not root: there is nothing to give up');
});
