// Host directories in real aarch64 (Debian 12) and riscv64 (Debian 13) guests under TCG: virtiofs and 9p, read-only
// and read-write, in one guest per arch. (The tiny kernel guests carry no 9p or virtiofs modules.)
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Arch } from '../../lib/arch/table.js';
import { launch } from '../../lib/guest/launch.js';
import { alive, processesMentioning, shortTempDir, testHome, useEnv } from '../fixtures/guests.js';

// One foreign Debian guest under TCG: ~1 min (aarch64) to a few (riscv64) on an idle host, more on a busy one.
t.setTimeout(2_400_000);

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

const guests = [
  // aarch64 boots through edk2 on pflash: the flash devices and the shared RAM backend on one machine.
  { arch: 'aarch64', image: 'debian-12-local', firmware: 'uefi' },
  { arch: 'riscv64', image: 'debian-13-local', firmware: undefined },
] as const satisfies readonly { arch: Arch; image: string; firmware: 'uefi' | undefined }[];

for (const { arch, image, firmware } of guests) {
  t.test(`${arch} ${image}: virtiofs and 9p, read-only and read-write`, async (t) => {
    const home = await testHome([arch]);
    const runtime = shortTempDir(t);
    useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime });
    // World-traversable: QEMU serves 9p as an unprivileged user.
    const root = mkdtempSync(join(tmpdir(), 'qlm-'));
    chmodSync(root, 0o755);
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const data = randomBytes(1024 * 1024 + 17);
    const dirs = { vfro: 'virtiofs', vfrw: 'virtiofs', p9ro: '9p', p9rw: '9p' } as const;
    for (const name of Object.keys(dirs)) {
      const dir = join(root, name);
      mkdirSync(dir);
      chmodSync(dir, name.endsWith('rw') ? 0o777 : 0o755);
      writeFileSync(join(dir, 'data.bin'), data);
    }
    const mounts = Object.entries(dirs).map(
      ([name, type]) => `${join(root, name)}:/mnt/${name}:${name.endsWith('rw') ? 'rw' : 'ro'},type=${type}`,
    );
    const started = Date.now();
    const vm = await launch(
      { image, arch, cpus: 2, accel: 'tcg', mounts, ...(firmware ? { firmware } : {}) },
      { readyTimeout: 1_800_000 },
    );
    t.teardown(() => vm.kill());
    t.comment(`${arch}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const machine = readFileSync(`/proc/${vm.pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((_, i, args) => args[i - 1] === '-machine')
      .join(',');
    t.match(machine, /(^|,)memory-backend=ram0(,|$)/, 'guest RAM is on the shared backend virtiofsd maps');
    if (firmware) t.match(machine, /(^|,)pflash0=fw-code(,|$)/, 'edk2 on pflash, beside it');
    const sh = (script: string) => vm.exec(['sh', '-c', script]);
    t.equal((await sh('uname -m')).stdout.trim(), arch, `the guest is ${arch}`);

    for (const [name, type] of Object.entries(dirs)) {
      const at = `/mnt/${name}`;
      t.equal(
        (await sh(`findmnt -n -o FSTYPE ${at}`)).stdout.trim(),
        type,
        `${at} is mounted over ${type} at boot`,
      );
      const sum = await sh(`sha256sum ${at}/data.bin`);
      t.equal(sum.stdout.split(' ')[0], sha(data), `${at}: the guest reads the host file byte for byte`);
      if (name.endsWith('rw')) {
        const wrote = await sh(`echo from-the-${arch}-guest > ${at}/new.txt && sync`);
        t.equal(wrote.exitCode, 0, `${at}: the guest can write`);
        t.equal(
          readFileSync(join(root, name, 'new.txt'), 'utf8'),
          `from-the-${arch}-guest\n`,
          `${at}: the write is on the host`,
        );
      } else {
        const write = await sh(`echo changed > ${at}/data.bin; touch ${at}/new.txt`);
        t.not(write.exitCode, 0, `${at}: writes fail`);
        t.match(write.stderr, /Read-only file system/, `${at}: with EROFS`);
        // The guest's own ro option lifted: only the host can refuse now.
        t.equal(
          (await sh(`mount -o remount,rw ${at}`)).exitCode,
          0,
          `${at}: the guest remounts it read-write`,
        );
        const again = await sh(`echo changed > ${at}/data.bin; touch ${at}/new.txt`);
        t.not(again.exitCode, 0, `${at}: writes still fail`);
        t.same(readFileSync(join(root, name, 'data.bin')), data, `${at}: the host file is unchanged`);
        t.notOk(existsSync(join(root, name, 'new.txt')), `${at}: no file was created on the host`);
      }
    }

    const exit = await vm.stop({ timeout: 120_000 });
    t.comment(`${arch}: ${((Date.now() - started) / 1000).toFixed(1)} s from launch to exit`);
    // riscv64 has no power button: the guest agent is asked, and QEMU 7.2 exits at its power-off with no event.
    t.equal(exit.how, 'guest-shutdown', 'the guest powered itself off', { console: vm.console.tail(20) });
    t.notOk(alive(vm.pid), 'no QEMU left');
    t.same(processesMentioning(root), [], 'no virtiofsd left');
    t.same(readdirSync(join(runtime, 'qlaunch')), [], 'no run dirs left');
  });
}
