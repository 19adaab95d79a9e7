// `qlaunch run --arch` for the other architectures: the tiny aarch64 and riscv64 guests with a disk and user
// networking, through the CLI, under TCG on whatever host this is.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { buildIso9660 } from '../../lib/cidata/iso9660.js';
import { cliPath, shortTempDir, tinyGuest } from '../fixtures/guests.js';

t.setTimeout(300_000);

for (const arch of ['aarch64', 'riscv64'] as const) {
  t.test(`${arch}: a disk's run.sh runs, and the guest reaches the host over user networking`, async (t) => {
    const guest = await tinyGuest(arch);
    const dir = shortTempDir(t);
    const token = randomBytes(6).toString('hex');
    const disk = join(dir, 'disk.iso');
    writeFileSync(disk, buildIso9660([{ path: 'run.sh', data: `#!/bin/sh\necho "disk says ${token}"\n` }]));
    const server = createServer((_req, res) => res.end(`host says ${token}\n`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const { port } = server.address() as AddressInfo;
    const append = `${guest.append} qlaunch.mount=/dev/vda qlaunch.net=1 qlaunch.fetch=http://10.0.2.2:${port}/x`;
    const result = await execa(
      process.execPath,
      [
        cliPath,
        'run',
        '--arch',
        arch,
        '--kernel',
        guest.kernel,
        '--initrd',
        guest.initrd,
        '--append',
        append,
        '--disk',
        disk,
      ],
      {
        reject: false,
        env: { ...process.env, TMPDIR: dir },
      },
    );
    t.equal(result.exitCode, 0, result.stderr);
    t.match(result.stdout, `disk says ${token}`, 'the virtio disk was mounted and its script ran');
    t.match(result.stdout, 'QLAUNCH-NET-OK 10.0.2.15', 'DHCP from QEMU user networking');
    t.match(result.stdout, `host says ${token}`, 'the guest fetched from the host through slirp');
    t.match(result.stdout, 'QLAUNCH-POWEROFF');
  });
}
