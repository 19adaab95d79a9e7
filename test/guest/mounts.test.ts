// Host directories in a real Debian guest: virtiofs and 9p, read-only and read-write, at once; and the bad input
// refused before anything boots.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import {
  alive,
  processesMentioning,
  sharedTempDir,
  shortTempDir,
  testHome,
  useEnv,
} from '../fixtures/guests.js';

t.setTimeout(900_000);

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

t.test('mounts that cannot work are refused before anything boots', async (t) => {
  const home = await testHome();
  useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: shortTempDir(t) });
  const dir = sharedTempDir(t);
  writeFileSync(join(dir, 'file.txt'), 'a file');
  const image = 'debian-12-local';
  await t.rejects(launch({ image, mounts: [join(dir, 'missing')] }), {
    code: 'SPEC_FILE_MISSING',
    message: `host directory ${join(dir, 'missing')} does not exist`,
    hint: /create it/,
  });
  await t.rejects(launch({ image, mounts: [join(dir, 'file.txt')] }), {
    code: 'SPEC_INVALID',
    message: `host path ${join(dir, 'file.txt')} is not a directory`,
  });
  await t.rejects(launch({ image, mounts: [`${dir}:/src`, `${tmpdir()}:/src`] }), {
    code: 'SPEC_INVALID',
    message: 'guest path /src is mounted twice',
  });
  await t.rejects(launch({ image, mounts: [`${dir}:/a`, `${dir}:/b`] }), {
    code: 'SPEC_INVALID',
    message: `host directory ${dir} is mounted twice`,
  });
  // A host without virtiofsd: no vhost-user descriptor names one.
  await t.rejects(
    launch({ image, mounts: [`${dir}:/src:type=virtiofs`] }, { vhostUserDirs: [join(dir, 'none')] }),
    {
      code: 'HOST_TOOL_MISSING',
      message: /type=virtiofs needs virtiofsd/,
      hint: /virtiofsd package.*or use type=9p/,
    },
  );
  // A machine file's mounts are relative to the file, and checked the same way.
  mkdirSync(join(dir, 'm'));
  writeFileSync(
    join(dir, 'm', 'dev.yaml'),
    'image: { name: debian-12-local }\nmounts:\n  - { host: ./src, guest: /src }\n',
  );
  await t.rejects(launch({ machine: join(dir, 'm', 'dev.yaml') }), {
    code: 'SPEC_FILE_MISSING',
    message: `host directory ${join(dir, 'm', 'src')} does not exist`,
  });
  await t.rejects(launch({ machine: join(dir, 'm', 'dev.yaml'), mounts: [`${dir}:/src`] }), {
    code: 'SPEC_INVALID',
    message: 'guest path /src is mounted twice',
  });
  if (process.getuid?.() === 0) {
    // 9p is served by QEMU as the user it drops to: a root-only directory is refused, naming the fixes.
    const closed = join(dir, 'root-only');
    mkdirSync(closed, { mode: 0o700 });
    await t.rejects(launch({ image, mounts: [`${closed}:/src:type=9p`] }), {
      code: 'HOST_PRIVILEGE_MISSING',
      message: `QEMU runs as nobody and cannot read ${closed} (a 9p mount)`,
      hint: /setfacl -m u:nobody:rX .*use type=virtiofs, or --run-as-root/,
    });
    await t.rejects(launch({ image, mounts: [`${dir}:/src:rw,type=9p`] }), {
      code: 'HOST_PRIVILEGE_MISSING',
      message: `QEMU runs as nobody and cannot read and write ${dir} (a 9p mount)`,
    });
  }
  const runs = join(process.env['XDG_RUNTIME_DIR'] ?? '', 'qlaunch');
  t.same(existsSync(runs) ? readdirSync(runs) : [], [], 'no run dir was left');
});

t.test('a Debian guest with four mounts: virtiofs and 9p, read-only and read-write', async (t) => {
  const home = await testHome();
  const runtime = shortTempDir(t);
  useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime });
  const root = sharedTempDir(t);
  const secret = `host-only-${randomBytes(8).toString('hex')}`;
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret.txt'), secret);
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const dirs = { vfro: 'virtiofs', vfrw: 'virtiofs', p9ro: '9p', p9rw: '9p' } as const;
  for (const name of Object.keys(dirs)) {
    const dir = join(root, name);
    mkdirSync(dir);
    // 9p writes as QEMU's unprivileged user: the read-write directories are open to it.
    chmodSync(dir, name.endsWith('rw') ? 0o777 : 0o755);
    writeFileSync(join(dir, 'data.bin'), data);
    symlinkSync('/etc/shadow', join(dir, 'shadow'));
    symlinkSync(join(root, 'outside', 'secret.txt'), join(dir, 'escape'));
    symlinkSync('../outside/secret.txt', join(dir, 'escape-relative'));
  }
  const mounts = Object.entries(dirs).map(
    ([name, type]) => `${join(root, name)}:/mnt/${name}:${name.endsWith('rw') ? 'rw' : 'ro'},type=${type}`,
  );
  const vm = await launch(
    { image: 'debian-12-local', cpus: 2, accel: 'tcg', mounts },
    { readyTimeout: 600_000 },
  );
  t.teardown(() => vm.kill());
  const sh = (script: string) => vm.exec(['sh', '-c', script]);
  for (const [name, type] of Object.entries(dirs)) {
    const served = processesMentioning(`source=${join(root, name)}`);
    t.equal(
      served.length > 0,
      type === 'virtiofs',
      `${name}: ${type === 'virtiofs' ? 'a' : 'no'} virtiofsd serves it`,
    );
  }

  for (const [name, type] of Object.entries(dirs)) {
    const at = `/mnt/${name}`;
    t.equal(
      (await sh(`findmnt -n -o FSTYPE ${at}`)).stdout.trim(),
      type,
      `${at} is mounted over ${type} at boot`,
    );
    const sum = await sh(`sha256sum ${at}/data.bin`);
    t.equal(sum.stdout.split(' ')[0], sha(data), `${at}: the guest reads the host file byte for byte`);

    // No host file through a link out of the share: the guest resolves links in its own file system.
    const escaped = await sh(`cat ${at}/escape ${at}/escape-relative 2>&1; true`);
    t.notMatch(escaped.stdout, secret, `${at}: a symlink out of the share shows nothing of the host`);
    const shadow = await sh(`sha256sum ${at}/shadow 2>&1 || true`);
    t.not(
      shadow.stdout.split(' ')[0],
      sha(readFileSync('/etc/shadow')),
      `${at}: a link to /etc/shadow is not the host's`,
    );

    if (name.endsWith('rw')) {
      const wrote = await sh(`echo from-the-guest > ${at}/new.txt && sync`);
      t.equal(wrote.exitCode, 0, `${at}: the guest can write`);
      t.equal(
        readFileSync(join(root, name, 'new.txt'), 'utf8'),
        'from-the-guest\n',
        `${at}: the write is on the host`,
      );
      // Ownership: 9p creates files as QEMU's user (nobody here); virtiofsd as the guest's writer (root).
      const owner = statSync(join(root, name, 'new.txt')).uid;
      t.equal(
        owner,
        type === '9p' ? 65534 : 0,
        `${at}: a guest file's host owner is ${type === '9p' ? "QEMU's user" : "the guest writer's uid"}`,
      );
    } else {
      // The guest's own ro option is lifted: only the host can refuse now.
      t.equal((await sh(`mount -o remount,rw ${at}`)).exitCode, 0, `${at}: the guest remounts it read-write`);
      const write = await sh(`echo changed > ${at}/data.bin; touch ${at}/new.txt`);
      t.not(write.exitCode, 0, `${at}: writes still fail`);
      t.match(write.stderr, /Read-only file system/, `${at}: with EROFS`);
      t.same(readFileSync(join(root, name, 'data.bin')), data, `${at}: the host file is unchanged`);
      t.notOk(existsSync(join(root, name, 'new.txt')), `${at}: no file was created on the host`);
    }
  }

  const exit = await vm.stop({ timeout: 60_000 });
  t.equal(exit.how, 'guest-shutdown');
  t.notOk(alive(vm.pid), 'no QEMU left');
  t.same(processesMentioning(root), [], 'no virtiofsd left');
  t.same(readdirSync(join(runtime, 'qlaunch')), [], 'no run dirs left');
});
