// Builds the tiny test guests with scripts/guests/tiny and boots them with raw QEMU argv under TCG.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import t, { type Test } from 'tap';
import { ErrorCode, QlaunchError } from '../../lib/errors.js';

// A first build downloads three kernels and packs three initramfs; later runs find them cached.
t.setTimeout(600_000);

const script = fileURLToPath(new URL('../../scripts/guests/tiny', import.meta.url));
// Generous: TCG on a busy 2-core host; a healthy boot takes a few seconds.
const qemuOptions = {
  stdin: 'ignore',
  stdout: 'pipe',
  stderr: 'pipe',
  reject: false,
  timeout: 90_000,
} as const;

interface Manifest {
  arch: string;
  kernel: string;
  initrd: string;
  append: string;
  kernelVersion: string;
  packages: Record<string, string>;
  readyMarker: string;
  bzImage?: string;
}

type Fstype = 'vfat' | 'ext4' | 'iso9660';

interface ArchCase {
  machine: string[];
  /** Each arch mounts a different file system, so the three kinds /init tries are all exercised. */
  fstype: Fstype;
  /** Why hold/powerdown cannot be tested on this arch, if it cannot. */
  noPowerButton?: string;
}

const archCases: Record<string, ArchCase> = {
  x86_64: { machine: ['-machine', 'q35', '-cpu', 'max'], fstype: 'vfat' },
  aarch64: { machine: ['-machine', 'virt', '-cpu', 'cortex-a57'], fstype: 'ext4' },
  riscv64: {
    machine: ['-machine', 'virt', '-bios', 'default', '-cpu', 'rv64,sscofpmf=true'],
    fstype: 'iso9660',
    noPowerButton: "QEMU 7.2's riscv virt machine has no power button device for system_powerdown",
  },
};

const qemuArgv = (m: Manifest, options: string[], extra: string[] = []): string[] => [
  '-nodefaults',
  '-no-user-config',
  '-display',
  'none',
  ...archCases[m.arch]!.machine,
  '-accel',
  'tcg',
  '-smp',
  '2',
  '-m',
  '512',
  '-kernel',
  m.kernel,
  '-initrd',
  m.initrd,
  '-append',
  [m.append, ...options].join(' '),
  '-serial',
  'stdio',
  '-no-reboot',
  ...extra,
];

interface Boot {
  process: ResultPromise<typeof qemuOptions>;
  lines: string[];
  /** Resolves with the ms since spawn when a console line equal to (or starting with) `marker` appears. */
  waitFor(marker: string): Promise<number>;
}

/** Spawns QEMU for one guest; the caller's test kills it in teardown whatever happens. */
const boot = (tt: Test, arch: string, argv: string[]): Boot => {
  const started = performance.now();
  const proc = execa(`qemu-system-${arch}`, argv, qemuOptions);
  tt.teardown(() => {
    proc.kill('SIGKILL');
  });
  const lines: string[] = [];
  const waiters: { marker: string; resolve: (ms: number) => void }[] = [];
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.replace(/\r$/, '');
      lines.push(line);
      for (const w of waiters.filter((w) => line.startsWith(w.marker)))
        w.resolve(performance.now() - started);
    }
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = proc.then(() => undefined);
  return {
    process: proc,
    lines,
    waitFor: (marker) => {
      const seen = lines.findIndex((l) => l.startsWith(marker));
      if (seen >= 0) return Promise.resolve(performance.now() - started);
      return new Promise((resolve, reject) => {
        waiters.push({ marker, resolve });
        void exited.then(() =>
          reject(
            new QlaunchError(ErrorCode.VM_EXITED, `qemu-system-${arch} exited before printing ${marker}`, {
              hint: `console:\n${lines.join('\n')}\nstderr:\n${stderr}`,
            }),
          ),
        );
      });
    },
  };
};

/** A minimal QMP exchange: greeting, qmp_capabilities, one command; resolves with every message received. */
const qmp = (socketPath: string, command: string, until: (msg: Record<string, unknown>) => boolean) =>
  new Promise<Record<string, unknown>[]>((resolve, reject) => {
    const messages: Record<string, unknown>[] = [];
    const socket = connect(socketPath);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('close', () => resolve(messages));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const msg = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        messages.push(msg);
        if ('QMP' in msg) socket.write('{"execute":"qmp_capabilities","id":"caps"}\n');
        else if (msg['id'] === 'caps') socket.write(`${JSON.stringify({ execute: command, id: 'cmd' })}\n`);
        if (until(msg)) {
          socket.end();
          resolve(messages);
        }
      }
    });
  });

const build = async (arch: string): Promise<Manifest> => {
  const { stdout } = await execa(script, [arch], { stderr: 'inherit' });
  const manifestPath = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
};

const makeDisk = async (tt: Test, fstype: Fstype, runSh: string): Promise<string> => {
  const dir = tt.testdir({ tree: { 'run.sh': runSh } });
  const tree = join(dir, 'tree');
  const image = join(dir, `disk.${fstype}`);
  if (fstype === 'vfat') {
    await execa('mkfs.vfat', ['-C', '-n', 'QLTEST', image, '4096']);
    await execa('mcopy', ['-i', image, join(tree, 'run.sh'), '::run.sh']);
  } else if (fstype === 'ext4') {
    await execa('mkfs.ext4', ['-q', '-F', '-d', tree, image, '8M']);
  } else {
    await execa('genisoimage', ['-quiet', '-R', '-o', image, tree]);
  }
  return image;
};

for (const [arch, { fstype, noPowerButton }] of Object.entries(archCases)) {
  t.test(`tiny ${arch} guest`, async (t) => {
    const first = performance.now();
    const m = await build(arch);
    t.comment(`build/cache lookup: ${Math.round(performance.now() - first)} ms`);
    t.equal(m.arch, arch);
    t.equal(m.readyMarker, 'QLAUNCH-TINY-READY');
    t.ok(m.kernelVersion.length > 0 && Object.keys(m.packages).length >= 2, 'manifest names versions');
    if (arch === 'x86_64') t.ok(m.bzImage, 'x86_64 records the bzImage next to the PVH vmlinux');

    const again = performance.now();
    const cached = await build(arch);
    const cachedMs = performance.now() - again;
    t.same(cached, m, 'a rerun returns the same guest');
    t.ok(cachedMs < 1000, `a cached rerun takes < 1 s (${Math.round(cachedMs)} ms)`);

    await t.test('boots to the ready marker, reports an unmountable disk, powers off', async (t) => {
      const blank = join(t.testdir(), 'blank.img');
      writeFileSync(blank, Buffer.alloc(1 << 20));
      const vm = boot(
        t,
        arch,
        qemuArgv(
          m,
          ['qlaunch.mount=/dev/vda'],
          [
            '-drive',
            `file=${blank},format=raw,if=none,id=d0,readonly=on`,
            '-device',
            'virtio-blk-pci,drive=d0',
          ],
        ),
      );
      const readyMs = await vm.waitFor(m.readyMarker);
      t.comment(`${arch}: ready marker after ${Math.round(readyMs)} ms`);
      await vm.waitFor('QLAUNCH-POWEROFF');
      const result = await vm.process;
      t.ok(vm.lines.includes('QLAUNCH-MOUNT-FAIL /dev/vda'), 'a disk with no file system is reported');
      t.notOk(
        vm.lines.some((l) => l.startsWith('QLAUNCH-MOUNT-OK')),
        'and not mounted',
      );
      t.equal(result.exitCode, 0, 'qemu exits 0 after the guest powers off');
    });

    // One boot for both tasks: fewer TCG guests on a shared machine, and /init runs them in sequence anyway.
    await t.test(
      `mounts a ${fstype} disk, runs its run.sh, then fetches from the host over DHCP`,
      async (t) => {
        const token = randomBytes(6).toString('hex');
        const image = await makeDisk(t, fstype, `#!/bin/sh\necho "run.sh says ${token}"\nexit 7\n`);
        const requests: string[] = [];
        const server = createServer((req, res) => {
          requests.push(req.url ?? '');
          res.end(`host says ${token}\n`);
        });
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        t.teardown(() => {
          server.close();
        });
        const { port } = server.address() as AddressInfo;
        const vm = boot(
          t,
          arch,
          qemuArgv(
            m,
            ['qlaunch.mount=/dev/vda', 'qlaunch.net=1', `qlaunch.fetch=http://10.0.2.2:${port}/${token}`],
            [
              ...[
                '-drive',
                `file=${image},format=raw,if=none,id=d0,readonly=on`,
                '-device',
                'virtio-blk-pci,drive=d0',
              ],
              ...['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0'],
            ],
          ),
        );
        await vm.waitFor('QLAUNCH-POWEROFF');
        await vm.process;
        t.ok(
          vm.lines.includes(`QLAUNCH-MOUNT-OK /dev/vda ${fstype}`),
          'mount marker names device and fs type',
        );
        t.ok(
          vm.lines.some((l) => / run\.sh$/.test(l)),
          'ls -la lists run.sh',
        );
        t.ok(vm.lines.includes(`run.sh says ${token}`), 'run.sh output reaches the console');
        t.ok(vm.lines.includes('QLAUNCH-RUN-EXIT 7'), 'run.sh exit code is reported');
        t.ok(vm.lines.includes('QLAUNCH-NET-OK 10.0.2.15'), 'slirp DHCP gives 10.0.2.15');
        t.ok(vm.lines.includes(`host says ${token}`), 'the fetched body reaches the console');
        t.ok(vm.lines.includes('QLAUNCH-FETCH-OK'), 'fetch marker');
        t.same(requests, [`/${token}`], 'the host server saw the guest request');
      },
    );

    const holdOptions = noPowerButton === undefined ? {} : { skip: noPowerButton };
    await t.test('holds until QMP system_powerdown, then shuts itself down', holdOptions, async (t) => {
      // A short private dir: unix socket paths are limited to 108 bytes.
      const dir = await mkdtemp(join(tmpdir(), 'qlaunch-tiny-'));
      t.teardown(() => rm(dir, { recursive: true, force: true }));
      const socketPath = join(dir, 'qmp.sock');
      const vm = boot(
        t,
        arch,
        qemuArgv(m, ['qlaunch.hold=1'], ['-qmp', `unix:${socketPath},server=on,wait=off`]),
      );
      await vm.waitFor('QLAUNCH-HOLDING');
      const messages = await qmp(socketPath, 'system_powerdown', (msg) => msg['event'] === 'SHUTDOWN');
      await vm.waitFor('QLAUNCH-POWERDOWN');
      const result = await vm.process;
      t.ok(
        messages.some((msg) => msg['id'] === 'cmd' && 'return' in msg),
        'system_powerdown accepted',
      );
      const shutdown = messages.find((msg) => msg['event'] === 'SHUTDOWN');
      t.same(shutdown?.['data'], { guest: true, reason: 'guest-shutdown' }, 'the guest shut itself down');
      t.equal(result.exitCode, 0, 'qemu exits 0');
      t.ok(vm.lines.indexOf('QLAUNCH-POWERDOWN') > vm.lines.indexOf('QLAUNCH-HOLDING'), 'marker order');
    });
  });
}
