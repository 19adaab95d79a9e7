import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCH_TABLE, ARCHES, hostArch } from '../../lib/arch/table.js';
import { isQlaunchError } from '../../lib/errors.js';
import { failureReason, kvmCpuCandidates, probeAccel } from '../../lib/host/accel.js';
import { ACCEL_CACHE_FILE } from '../../lib/host/accel-cache.js';
import { findQemu } from '../../lib/host/binaries.js';
import { checkKvmDevice } from '../../lib/host/kvm-device.js';
import { judgeRun, type PayloadRun, payloadFor } from '../../lib/host/payload.js';
import { runPayload } from '../../lib/host/payload-run.js';

// This file boots real (tiny) guests, one at a time: the KVM probe and the same payloads under TCG.
t.setTimeout(120_000);

const host = hostArch();
const hostPayload = host === undefined ? undefined : payloadFor(host);
const otherArch = ARCHES.find((arch) => arch !== host) ?? 'riscv64';
const limits = { deadlineMs: 1000, startupMs: 5000 };
const hostQemu = host === undefined ? undefined : await findQemu(host);
const noHostArch = host === undefined && 'no arch table entry for this host';
const noPayload = hostPayload === undefined && 'no probe payload for this host arch';
const noRealProbe = noPayload || (hostQemu === undefined && `no qemu-system binary for ${host}`);

const run = (over: Partial<PayloadRun>): PayloadRun => ({
  exitCode: undefined,
  signal: undefined,
  stdout: '',
  stderr: '',
  killed: undefined,
  elapsedMs: 10,
  ...over,
});

t.test('failureReason: one line saying how far the guest got', async (t) => {
  t.equal(
    failureReason(
      run({ killed: 'deadline', signal: 'SIGKILL' }),
      { completed: false, lastStage: 'real mode' },
      limits,
    ),
    'guest code did not finish under KVM within 1000 ms (last stage reached: real mode): paravirtual or broken KVM',
  );
  t.equal(
    failureReason(run({ killed: 'startup' }), { completed: false, lastStage: undefined }, limits),
    'QEMU did not start guest code under KVM within 5000 ms',
  );
  t.equal(
    failureReason(
      run({ signal: 'SIGABRT', stderr: 'qemu: error: failed to set MSR 0x10a to 0x69\nqemu: assertion\n' }),
      { completed: false, lastStage: undefined },
      limits,
    ),
    'guest code did not finish under KVM: QEMU was killed by SIGABRT (last stage reached: none): qemu: error: failed to set MSR 0x10a to 0x69',
  );
  t.equal(
    failureReason(
      run({ exitCode: 0, stdout: 'RP' }),
      { completed: false, lastStage: 'protected mode' },
      limits,
    ),
    'guest code did not finish under KVM: QEMU exited with status 0 (last stage reached: protected mode)',
  );
  t.match(
    failureReason(run({}), { completed: false, lastStage: undefined }, limits),
    /QEMU could not be run/,
  );
});

t.test('kvmCpuCandidates: x86_64 falls back to no arch-capabilities', async (t) => {
  t.same(kvmCpuCandidates('x86_64'), ['host', 'host,-arch-capabilities']);
  t.same(kvmCpuCandidates('aarch64'), ['host']);
});

t.test('forced TCG needs nothing and caches nothing', async (t) => {
  const cacheDir = t.testdir();
  t.same(await probeAccel(host ?? 'x86_64', { force: 'tcg', cacheDir }), {
    accel: 'tcg',
    reason: 'forced by the user',
    cached: false,
    forced: true,
  });
  await t.rejects(access(join(cacheDir, ACCEL_CACHE_FILE)));
});

t.test('another arch than the host is always TCG; forcing KVM for it is an error', async (t) => {
  const verdict = await probeAccel(otherArch, { cacheDir: t.testdir() });
  t.match(verdict, { accel: 'tcg', cached: false, reason: /guest arch .* differs from host/ });
  const error = await probeAccel(otherArch, { force: 'kvm' }).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, 'HOST_ACCEL_UNAVAILABLE'));
  t.match(error, { message: /differs from host/, hint: /--accel tcg/ });
});

t.test(
  'no KVM device: TCG saying so, without running anything; forcing KVM is an error',
  { skip: noHostArch },
  async (t) => {
    if (!host) return;
    const cacheDir = t.testdir();
    const kvmDevice = join(cacheDir, 'no-kvm');
    // A binary that does not exist proves nothing was spawned.
    const verdict = await probeAccel(host, { cacheDir, kvmDevice, binary: join(cacheDir, 'no-qemu') });
    t.match(verdict, { accel: 'tcg', reason: new RegExp(`^${kvmDevice} missing`) });
    await t.rejects(
      access(join(cacheDir, ACCEL_CACHE_FILE)),
      'not cached: a device can appear without a reboot',
    );
    const error = await probeAccel(host, { force: 'kvm', cacheDir, kvmDevice }).catch((e: unknown) => e);
    t.ok(isQlaunchError(error, 'HOST_ACCEL_UNAVAILABLE'));
    t.match(error, { message: /KVM was asked for but cannot run .*no-kvm missing/ });
  },
);

t.test('a PATH without qemu: HOST_QEMU_MISSING naming the package', { skip: noHostArch }, async (t) => {
  if (!host) return;
  const dir = t.testdir({ kvm: '' });
  const error = await probeAccel(host, {
    env: { PATH: dir },
    kvmDevice: join(dir, 'kvm'),
    cacheDir: dir,
  }).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, 'HOST_QEMU_MISSING'));
  t.match(error, { hint: `install it: apt-get install ${ARCH_TABLE[host].debianPackage}` });
});

/** A stand-in QEMU that logs each -cpu it gets; the first KVM CPU candidate aborts like a nested host's MSR failure. */
async function fakeQemu(dir: string, behaviour: string): Promise<string> {
  const path = join(dir, 'qemu');
  const candidates = host ? kvmCpuCandidates(host) : [];
  const msrFailing = candidates.length > 1 ? candidates[0] : 'never';
  const script = `#!/bin/sh
[ "$1" = -version ] && { echo 'QEMU emulator version 9.9.9 (fake)'; exit 0; }
prev=; for a in "$@"; do [ "$prev" = -cpu ] && cpu=$a; prev=$a; done
echo "$cpu" >> '${join(dir, 'cpus.log')}'
[ "$cpu" = '${msrFailing}' ] && { echo 'qemu: error: failed to set MSR 0x10a to 0x69' >&2; kill -ABRT $$; }
${behaviour}
`;
  await writeFile(path, script);
  await chmod(path, 0o755);
  return path;
}

const cpusTried = async (dir: string): Promise<string[]> =>
  (await readFile(join(dir, 'cpus.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean);

t.test(
  'KVM that completes (a stand-in QEMU): kvm verdict, cached 0600, reused, refreshable',
  { skip: noPayload },
  async (t) => {
    if (!host || !hostPayload) return;
    const dir = t.testdir({ kvm: '' });
    const markers = hostPayload.stages.map((s) => s.marker).join('');
    const binary = await fakeQemu(dir, `printf '${markers}'; exit ${hostPayload.exitStatus}`);
    const cacheDir = join(dir, 'cache', 'qlaunch');
    const options = { binary, cacheDir, kvmDevice: join(dir, 'kvm') };
    const candidates = kvmCpuCandidates(host);

    const verdict = await probeAccel(host, options);
    t.match(verdict, {
      accel: 'kvm',
      cpu: candidates.at(-1),
      cached: false,
      reason: /^guest code ran under KVM in \d+ ms/,
    });
    t.same(await cpusTried(dir), candidates, 'retried without arch-capabilities after the MSR failure');
    t.equal((await stat(cacheDir)).mode & 0o777, 0o700);
    t.equal((await stat(join(cacheDir, ACCEL_CACHE_FILE))).mode & 0o777, 0o600);

    t.same(await probeAccel(host, options), { ...verdict, cached: true });
    t.equal((await cpusTried(dir)).length, candidates.length, 'the cached verdict ran nothing');
    t.match(await probeAccel(host, { ...options, refresh: true }), { accel: 'kvm', cached: false });
    t.equal((await cpusTried(dir)).length, 2 * candidates.length, 'refresh probed again');
    t.match(await probeAccel(host, { ...options, force: 'kvm' }), {
      accel: 'kvm',
      cpu: candidates.at(-1),
      forced: true,
    });
  },
);

t.test(
  'KVM where guest code hangs (a stand-in QEMU): tcg verdict naming the stage, cached',
  { skip: noPayload },
  async (t) => {
    if (!host || !hostPayload) return;
    const dir = t.testdir({ kvm: '' });
    const first = hostPayload.stages[0];
    const binary = await fakeQemu(dir, `printf '${first?.marker}'; exec sleep 30`);
    const options = { binary, cacheDir: join(dir, 'cache'), kvmDevice: join(dir, 'kvm'), deadlineMs: 300 };
    t.match(await probeAccel(host, options), {
      accel: 'tcg',
      cpu: undefined,
      reason: `guest code did not finish under KVM within 300 ms (last stage reached: ${first?.name}): paravirtual or broken KVM`,
    });
    t.match(await probeAccel(host, options), { accel: 'tcg', cached: true });
    // Forcing KVM the probe found broken would hang the guest silently: refused, naming the probe's reason.
    const error = await probeAccel(host, { ...options, force: 'kvm' }).catch((e: unknown) => e);
    t.ok(isQlaunchError(error, 'HOST_ACCEL_UNAVAILABLE'), 'forced KVM on a cached broken verdict is refused');
    t.match(error, {
      message: /^KVM was asked for, but the KVM probe found it does not run .* guests on this host/,
      hint: /^the probe: guest code did not finish under KVM within 300 ms.*--accel tcg.*doctor --refresh.*accel: \{ accel: 'kvm' \}/,
    });
  },
);

t.test(
  'forcing KVM with no verdict yet probes first: broken KVM is refused, a working one runs',
  { skip: noPayload },
  async (t) => {
    if (!host || !hostPayload) return;
    const dir = t.testdir({ kvm: '' });
    const first = hostPayload.stages[0];
    const hangs = await fakeQemu(dir, `printf '${first?.marker}'; exec sleep 30`);
    const options = { cacheDir: join(dir, 'cache'), kvmDevice: join(dir, 'kvm'), deadlineMs: 300 };
    await t.rejects(probeAccel(host, { ...options, binary: hangs, force: 'kvm' }), {
      code: 'HOST_ACCEL_UNAVAILABLE',
      hint: /paravirtual or broken KVM/,
    });
    t.equal((await cpusTried(dir)).length, kvmCpuCandidates(host).length, 'the probe ran');
    const markers = hostPayload.stages.map((s) => s.marker).join('');
    const works = await fakeQemu(dir, `printf '${markers}'; exit ${hostPayload.exitStatus}`);
    t.match(await probeAccel(host, { ...options, binary: works, force: 'kvm', refresh: true }), {
      accel: 'kvm',
      cpu: kvmCpuCandidates(host).at(-1),
      forced: true,
    });
  },
);

t.test('the verdict is kept under QLAUNCH_HOME when that is set', { skip: noPayload }, async (t) => {
  if (!host || !hostPayload) return;
  const dir = t.testdir({ kvm: '', home: {}, xdg: {} });
  const markers = hostPayload.stages.map((s) => s.marker).join('');
  const binary = await fakeQemu(dir, `printf '${markers}'; exit ${hostPayload.exitStatus}`);
  const env = {
    PATH: process.env['PATH'],
    QLAUNCH_HOME: join(dir, 'home'),
    XDG_CACHE_HOME: join(dir, 'xdg'),
  };
  t.match(await probeAccel(host, { binary, env, kvmDevice: join(dir, 'kvm') }), { accel: 'kvm' });
  t.equal((await stat(join(dir, 'home', 'cache', ACCEL_CACHE_FILE))).mode & 0o777, 0o600);
  await t.rejects(access(join(dir, 'xdg', 'qlaunch')), 'nothing in the XDG cache');
  t.match(await probeAccel(host, { binary, env, kvmDevice: join(dir, 'kvm') }), { cached: true });
});

t.test('a binary that is not QEMU gets no cached verdict', { skip: noHostArch }, async (t) => {
  if (!host) return;
  const dir = t.testdir({ kvm: '' });
  const cacheDir = join(dir, 'cache');
  const verdict = await probeAccel(host, { binary: '/bin/true', cacheDir, kvmDevice: join(dir, 'kvm') });
  t.match(verdict, { accel: 'tcg' });
  await t.rejects(access(join(cacheDir, ACCEL_CACHE_FILE)), '/bin/true proved nothing about KVM');
});

t.test(
  'a binary given by name is found on PATH; a missing one is HOST_QEMU_MISSING',
  { skip: noPayload },
  async (t) => {
    if (!host || !hostPayload) return;
    const dir = t.testdir({ kvm: '' });
    const markers = hostPayload.stages.map((s) => s.marker).join('');
    const binary = await fakeQemu(dir, `printf '${markers}'; exit ${hostPayload.exitStatus}`);
    const options = { env: { PATH: dir }, cacheDir: join(dir, 'cache'), kvmDevice: join(dir, 'kvm') };
    t.match(await probeAccel(host, { ...options, binary: 'qemu' }), { accel: 'kvm' });
    const [entry] = JSON.parse(await readFile(join(dir, 'cache', ACCEL_CACHE_FILE), 'utf8')).entries;
    t.equal(entry.key.qemuPath, binary, 'cached under its full path');
    for (const missing of ['qemu-nowhere', join(dir, 'no-such-qemu')]) {
      const error = await probeAccel(host, { ...options, binary: missing }).catch((e: unknown) => e);
      t.ok(isQlaunchError(error, 'HOST_QEMU_MISSING'), missing);
      t.match(error, { message: /^QEMU binary .* (is not on PATH|does not exist)/, hint: /\S/ });
    }
  },
);

t.test(
  'QEMU that never starts the guest (a stand-in): tcg, but not cached',
  { skip: noPayload },
  async (t) => {
    if (!host || !hostPayload) return;
    const dir = t.testdir({ kvm: '' });
    const binary = await fakeQemu(dir, 'exec sleep 30');
    const cacheDir = join(dir, 'cache');
    const verdict = await probeAccel(host, { binary, cacheDir, kvmDevice: join(dir, 'kvm'), startupMs: 300 });
    t.match(verdict, { accel: 'tcg', reason: /^QEMU did not start guest code under KVM within 300 ms/ });
    await t.rejects(access(join(cacheDir, ACCEL_CACHE_FILE)));
  },
);

t.test('every payload completes under TCG: the proof that the guest code is right', async (t) => {
  for (const arch of ARCHES) {
    const payload = payloadFor(arch);
    const qemu = await findQemu(arch);
    if (!payload || !qemu) continue;
    const result = await runPayload(payload, {
      binary: qemu.path,
      accel: 'tcg',
      cpu: ARCH_TABLE[arch].tcgCpu,
    });
    t.same(
      judgeRun(payload, result),
      { completed: true, lastStage: payload.stages.at(-1)?.name },
      `${arch} under TCG`,
    );
    t.equal(result.exitCode, payload.exitStatus);
    t.equal(result.stdout, payload.stages.map((s) => s.marker).join(''), `${arch} wrote every marker, once`);
  }
});

t.test('the real probe on this host', { skip: noRealProbe }, async (t) => {
  const qemu = hostQemu;
  if (!host || !hostPayload || !qemu) return;
  const device = await checkKvmDevice();
  const cacheDir = t.testdir();
  const verdict = await probeAccel(host, { qemu, cacheDir, refresh: true });
  t.comment(`verdict: ${JSON.stringify(verdict)}`);
  if (!device.accessible) {
    t.match(verdict, { accel: 'tcg', reason: device.problem });
    return;
  }
  t.notMatch(verdict.reason, /\/dev\/kvm/, 'the device is usable: the verdict comes from running guest code');
  if (verdict.accel === 'kvm') {
    // Then the payload really completed under KVM with that CPU model: check it again, directly.
    const direct = await runPayload(hostPayload, {
      binary: qemu.path,
      accel: 'kvm',
      cpu: verdict.cpu ?? 'host',
    });
    t.ok(judgeRun(hostPayload, direct).completed, 'the payload completes under KVM');
  } else {
    // Here (a paravirtual KVM) the guest starts and never finishes; QEMU itself must not be the problem.
    t.match(verdict.reason, /^guest code did not finish under KVM/);
  }
  t.equal((await stat(join(cacheDir, ACCEL_CACHE_FILE))).mode & 0o777, 0o600);
  const started = performance.now();
  const again = await probeAccel(host, { qemu, cacheDir });
  const ms = performance.now() - started;
  t.same(again, { ...verdict, cached: true });
  t.ok(ms < 1000, `the cached verdict took ${Math.round(ms)} ms`);
});
