import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { alive, cliPath, pollUntil, shortTempDir, type TinyGuest, tinyGuest } from '../fixtures/guests.js';

t.setTimeout(240_000);

const qlaunch = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, ...env },
    extendEnv: false,
  });

/** `run` arguments booting the tiny guest under TCG, with extra kernel options. */
const tinyRun = (guest: TinyGuest, append: string) => [
  'run',
  '--kernel',
  guest.kernel,
  '--initrd',
  guest.initrd,
  '--append',
  `${guest.append}${append}`,
  '--memory',
  '256M',
  '--accel',
  'tcg',
];

t.test('qlaunch run boots the tiny guest, shows its console and exits 0 when it powers off', async (t) => {
  const guest = await tinyGuest('x86_64');
  const tmp = shortTempDir(t);
  const result = await qlaunch(
    [...tinyRun(guest, ''), '--wait-serial', guest.readyMarker, '--timeout', '120'],
    { TMPDIR: tmp },
  );
  t.equal(result.exitCode, 0, result.stderr);
  t.match(result.stdout, guest.readyMarker, 'console on stdout');
  t.match(result.stdout, 'QLAUNCH-POWEROFF');
  t.match(result.stderr, /qlaunch: ready after [\d.]+ s/);
  t.same(readdirSync(tmp), [], 'no temp files left');
});

/** `qlaunch run` of a guest that holds until the power button, resolved once the console shows `text`. */
async function runHolding(tmp: string, text: string) {
  const guest = await tinyGuest('x86_64');
  const child = execa(process.execPath, [cliPath, ...tinyRun(guest, ' qlaunch.hold=1')], {
    reject: false,
    env: { ...process.env, TMPDIR: tmp },
  });
  let out = '';
  await new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(text)) resolve();
    });
  });
  return { child, output: () => out };
}

t.test('SIGTERM stops the guest cleanly and leaves nothing', async (t) => {
  const tmp = shortTempDir(t);
  const { child, output } = await runHolding(tmp, 'QLAUNCH-HOLDING');
  child.kill('SIGTERM');
  const result = await child;
  t.equal(result.exitCode, 143);
  t.match(result.stderr, /SIGTERM: stopping the guest/);
  t.match(output(), 'QLAUNCH-POWERDOWN', 'the guest got the power button');
  t.same(readdirSync(tmp), [], 'no sockets or temp dirs left');
});

t.test('SIGKILL of qlaunch takes QEMU with it and leaves no files', async (t) => {
  const tmp = shortTempDir(t);
  const { child } = await runHolding(tmp, 'QLAUNCH-TINY-READY');
  const children = await execa('pgrep', ['-P', String(child.pid)], { reject: false });
  const qemuPid = Number(children.stdout.trim().split('\n')[0]);
  t.ok(qemuPid > 0, 'QEMU runs as a child of qlaunch');
  child.kill('SIGKILL');
  await child;
  t.ok(await pollUntil(() => !alive(qemuPid), 10_000), 'QEMU died with qlaunch');
  t.same(readdirSync(tmp), [], 'no sockets or temp dirs left');
});

t.test('a guest that never shows the text fails with a timeout and the console tail', async (t) => {
  const guest = await tinyGuest('x86_64');
  const result = await qlaunch([...tinyRun(guest, ' qlaunch.hold=1'), '--timeout', '20', '-q']);
  t.equal(result.exitCode, 1);
  t.match(result.stderr, /still running after 20 s/);
  t.match(result.stderr, 'QLAUNCH-HOLDING', 'the last console lines are shown');
  t.equal(result.stdout, '', '--quiet keeps the console off stdout');
});

t.test('bad input: a clear message naming the fix', async (t) => {
  const dir = t.testdir({ kernel: 'x', 'bad.qcow2': 'not an image' });
  const cases: [string[], RegExp, number][] = [
    [['run', '--kernel', join(dir, 'nope')], /kernel .*nope does not exist/, 1],
    [
      ['run', '--kernel', join(dir, 'kernel'), '--arch', 'sparc64'],
      /architecture 'sparc64' is not supported[\s\S]*x86_64, aarch64, riscv64/,
      1,
    ],
    [
      ['run', '--kernel', join(dir, 'kernel'), '--memory', '12parsecs'],
      /memory '12parsecs'[\s\S]*fix: .*512M/,
      1,
    ],
    [['run', '--disk', join(dir, 'bad.qcow2'), '--accel', 'tcg'], /QEMU said: .*qcow2/i, 1],
    [['run', '--kernel', join(dir, 'kernel'), '--timeout', '-3'], /--timeout -3/, 2],
    [['frobnicate'], /Unknown argument|did you mean/i, 2],
    [[], /say which command/, 2],
  ];
  for (const [args, message, code] of cases) {
    const result = await qlaunch(args);
    t.equal(result.exitCode, code, `exit code of ${args.join(' ')}`);
    t.match(result.stderr, message, args.join(' '));
  }
});

t.test('a QEMU that is not installed is named with its Debian package', async (t) => {
  const bin = t.testdir();
  mkdirSync(join(bin, 'empty'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const guest = await tinyGuest('x86_64');
  const result = await qlaunch(['run', '--arch', 'riscv64', '--kernel', guest.kernel], {
    PATH: join(bin, 'empty'),
  });
  t.equal(result.exitCode, 1);
  t.match(result.stderr, /qemu-system-riscv64/);
  t.match(result.stderr, /apt-get install qemu-system-misc/);
});

t.test('--version is quick and plain', async (t) => {
  const result = await qlaunch(['--version']);
  t.equal(result.exitCode, 0);
  t.match(result.stdout, /^\d+\.\d+\.\d+\n?$/);
});
