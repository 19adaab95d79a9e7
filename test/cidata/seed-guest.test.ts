// The reader that matters most: a Linux guest kernel mounts our seed images (isofs with Rock Ridge, vfat).
import { execa } from 'execa';
import t from 'tap';
import { buildFat } from '../../lib/cidata/fat.js';
import { buildIso9660 } from '../../lib/cidata/iso9660.js';
import type { SeedFile } from '../../lib/cidata/seed-tree.js';
import { tinyGuest } from '../fixtures/guests.js';
import { noise, saveImage, sha } from './readers.js';

// A first run may build the tiny guest (downloads a kernel); a TCG boot then takes a few seconds.
t.setTimeout(600_000);

const DATE = new Date('2024-05-06T07:08:10Z');

// Runs in the guest from the mounted seed: one line per file with its SHA-256, then the mode of meta-data.
const RUN_SH = `find . -type f | sort | while IFS= read -r f; do
  echo "QLAUNCH-SEED $(sha256sum <"$f" | cut -d' ' -f1) \${f#./}"
done
stat -c 'QLAUNCH-MODE %a' meta-data
echo QLAUNCH-SEED-DONE
`;

const FILES: SeedFile[] = [
  { path: 'run.sh', data: RUN_SH },
  { path: 'meta-data', data: 'instance-id: iid-guest\n' },
  { path: 'user-data', data: '#cloud-config\n' },
  { path: 'network-config', data: 'version: 2\n' },
  { path: 'vendor-data', data: '' },
  { path: `scripts/${'a-long-name-'.repeat(20)}.sh`, data: noise(3000, 7) },
  { path: 'scripts/deeper/still/big.bin', data: noise(3 * 1024 * 1024 + 1, 8) },
  ...Array.from({ length: 80 }, (_, i) => ({
    path: `many/fragment-with-long-name-${i}.yaml`,
    data: `n: ${i}\n`,
  })),
];

const want = FILES.map((f) => `QLAUNCH-SEED ${sha(Buffer.from(f.data))} ${f.path}`).sort();

const builders = {
  iso9660: () => buildIso9660(FILES, { date: DATE }),
  vfat: () => buildFat(FILES, { date: DATE }),
};

for (const [fstype, build] of Object.entries(builders)) {
  t.test(`the Linux kernel mounts our ${fstype} seed and reads every file`, async (t) => {
    const guest = await tinyGuest('x86_64');
    const image = await saveImage(t.testdir(), `seed.${fstype}`, build());
    // One guest at a time, one vCPU: the host is shared.
    const qemu = await execa(
      'qemu-system-x86_64',
      [
        ...[
          '-nodefaults',
          '-no-user-config',
          '-display',
          'none',
          '-machine',
          'q35',
          '-cpu',
          'max',
          '-accel',
          'tcg',
        ],
        ...['-smp', '1', '-m', '256', '-kernel', guest.kernel, '-initrd', guest.initrd],
        ...['-append', `${guest.append} qlaunch.mount=/dev/vda`, '-serial', 'stdio', '-no-reboot'],
        ...[
          '-drive',
          `file=${image},format=raw,if=none,id=seed,readonly=on`,
          '-device',
          'virtio-blk-pci,drive=seed',
        ],
      ],
      { stdin: 'ignore', reject: false, timeout: 180_000 },
    );
    const lines = qemu.stdout.split('\n').map((l) => l.replace(/\r$/, ''));
    t.ok(lines.includes(`QLAUNCH-MOUNT-OK /dev/vda ${fstype}`), `mounted as ${fstype}`, { lines });
    t.ok(lines.includes('QLAUNCH-SEED-DONE'), 'run.sh ran to the end');
    t.same(lines.filter((l) => l.startsWith('QLAUNCH-SEED ')).sort(), want, 'every name and every byte');
    if (fstype === 'iso9660') t.ok(lines.includes('QLAUNCH-MODE 644'), 'Rock Ridge modes are used');
  });
}
