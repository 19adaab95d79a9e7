import { readdirSync, readFileSync, readlinkSync, statSync, symlinkSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { GUEST_FILES } from '../../lib/files.js';
import { cliPath, shortTempDir, type TinyGuest, tinyGuest } from '../fixtures/guests.js';

t.setTimeout(300_000);

const qlaunch = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, ...env },
    extendEnv: false,
  });

const tinyArgs = (guest: TinyGuest, append = '') => [
  'run',
  '--arch',
  guest.arch,
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

/** The open file behind QEMU's fd whose link names `name`, with its size and whether it is open for writing. */
function openFile(pid: number, name: string) {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    if (!link.includes(name)) continue;
    const flags = Number.parseInt(
      /flags:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0',
      8,
    );
    return {
      link,
      size: statSync(`/proc/${pid}/fd/${fd}`).size,
      writable: (flags & 3) === 2 || (flags & 3) === 1,
    };
  }
  return undefined;
}

t.test(
  'aarch64 tiny guest under UEFI: edk2 on pflash loads the kernel, the NVRAM copy is 64 MiB and private to the run',
  async (t) => {
    const guest = await tinyGuest('aarch64');
    const tmp = shortTempDir(t);
    const child = execa(
      process.execPath,
      [
        cliPath,
        ...tinyArgs(guest, ' qlaunch.hold=1'),
        '--firmware',
        'uefi',
        '--wait-serial',
        guest.readyMarker,
      ],
      { reject: false, env: { ...process.env, TMPDIR: tmp } },
    );
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('QLAUNCH-HOLDING')) resolve();
      });
      child.then(() => reject(new Error(`qlaunch exited early: ${err}`)), reject);
    });
    t.match(out, guest.readyMarker, 'the marker appears on the console');
    t.match(
      err,
      /qlaunch: firmware: UEFI: \/\S+AAVMF_CODE\.fd \(60-edk2-aarch64\.json\)/,
      'says which firmware',
    );
    t.match(err, /qlaunch: ready after [\d.]+ s/);

    const children = await execa('pgrep', ['-P', String(child.pid)], { reject: false });
    const qemu = Number(children.stdout.trim().split('\n')[0]);
    const argv = readFileSync(`/proc/${qemu}/cmdline`, 'utf8').split('\0');
    t.match(argv[argv.indexOf('-machine') + 1], /^virt,gic-version=max,pflash0=fw-code,pflash1=fw-vars$/);
    const nodes = argv.flatMap((a, i) => (a === '-blockdev' ? [JSON.parse(argv[i + 1] ?? '{}')] : []));
    t.match(nodes, [
      { 'node-name': 'fw-code', 'read-only': true, file: { filename: /AAVMF_CODE\.fd$/ } },
      {
        'node-name': 'fw-vars',
        'read-only': false,
        file: { filename: new RegExp(`/${GUEST_FILES.nvram}$`) },
      },
    ]);
    const nvram = openFile(qemu, GUEST_FILES.nvram);
    t.match(
      nvram?.link,
      /\(deleted\)$/,
      'the copy is already unlinked: nothing to clean up even after SIGKILL',
    );
    t.equal(nvram?.size, 64 * 1024 * 1024, 'pflash1 is the full 64 MiB AAVMF variable store');
    t.equal(nvram?.writable, true, 'QEMU holds it open for writing');
    t.same(await readdir(tmp), [], 'nothing of the run is on disk while it runs');

    child.kill('SIGTERM');
    const result = await child;
    t.equal(result.exitCode, 143, err);
    t.same(readdirSync(tmp), [], 'nothing left afterwards');
  },
);

t.test('bad input through the CLI: each names the thing and the fix', async (t) => {
  const guest = await tinyGuest('aarch64');
  const cases: [string[], RegExp][] = [
    [
      ['run', '--kernel', guest.kernel, '--arch', 'sparc64'],
      /architecture 'sparc64' is not supported yet \(qlaunch runs x86_64, aarch64, riscv64 guests\)/,
    ],
    [
      ['run', 'debian-12', '--arch', 'sparc64'],
      /'sparc64' is not supported yet[\s\S]*fix: use one of: x86_64, aarch64, riscv64/,
    ],
    [
      [...tinyArgs(guest), '--firmware', 'nonsense-path'],
      /firmware nonsense-path does not exist\n {2}fix: give bios, uefi, or the path of a firmware file/,
    ],
    [[...tinyArgs(guest), '--firmware', 'bios'], /'bios' is not available for aarch64: .*no BIOS/],
  ];
  const ovmf = '/usr/share/OVMF/OVMF_CODE_4M.fd';
  if (statSync(ovmf, { throwIfNoEntry: false })) {
    cases.push([[...tinyArgs(guest), '--firmware', ovmf], /OVMF_CODE_4M\.fd is for x86_64 .*, not aarch64/]);
  }
  for (const [args, message] of cases) {
    const result = await qlaunch(args);
    t.equal(result.exitCode, 1, args.join(' '));
    t.match(result.stderr, message, args.join(' '));
  }
});

t.test('a missing qemu-system-riscv64 names qemu-system-misc', async (t) => {
  const guest = await tinyGuest('riscv64');
  const bin = shortTempDir(t);
  await mkdir(join(bin, 'empty'));
  symlinkSync(process.execPath, join(bin, 'node'));
  const runs = [
    ['run', '--arch', 'riscv64', '--kernel', guest.kernel],
    ['run', '--arch', 'riscv64', '--disk', guest.initrd, '--firmware', 'uefi'],
  ];
  for (const args of runs) {
    const result = await qlaunch(args, { PATH: join(bin, 'empty') });
    t.equal(result.exitCode, 1);
    t.match(
      result.stderr,
      /qemu-system-riscv64 not found on PATH \(needed for riscv64 guests\)\n {2}fix: install it: apt-get install qemu-system-misc/,
    );
  }
});

t.test('--firmware uefi with no UEFI installed for the arch names the package', async (t) => {
  const guest = await tinyGuest('aarch64');
  const config = shortTempDir(t);
  const dir = join(config, 'qemu', 'firmware');
  await mkdir(dir, { recursive: true });
  // An empty file in the user's dir hides the same-named system descriptor (QEMU's firmware.json rules).
  for (const system of ['/etc/qemu/firmware', '/usr/share/qemu/firmware']) {
    for (const name of await readdir(system).catch(() => [] as string[]))
      await writeFile(join(dir, name), '');
  }
  const result = await qlaunch([...tinyArgs(guest), '--firmware', 'uefi'], { XDG_CONFIG_HOME: config });
  t.equal(result.exitCode, 1);
  t.match(result.stderr, /no UEFI firmware for aarch64 \(machine virt\) in .*; no descriptor is for aarch64/);
  t.match(result.stderr, 'fix: install it: apt-get install qemu-efi-aarch64');
});
