// What QEMU can no longer do once it dropped root is refused with the way out: a host port below 1024 added
// while it runs (given at start, QEMU binds it while still root), a file it may not open hot-plugged.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

const root = process.getuid?.() === 0;

t.test(
  'a privileged port or a root-only file asked of QEMU at run time names --run-as-root',
  { skip: !root && 'needs root' },
  async (t) => {
    const dir = instanceTempDir(t);
    const machine = await tinyMachineFile(dir);
    const dev = await Instance.create({ name: 'lowport', machine, accel: 'tcg' }, { root: dir });
    t.teardown(() => Instance.destroy('lowport', { root: dir, force: true }).catch(() => {}));
    await dev.start();
    await t.rejects(dev.addPort('127.0.0.1:81:80'), {
      code: 'VM_PORT_FORWARD',
      hint: /needs root.*--run-as-root/,
    });
    // A file hot-plugged from a root-only directory: QEMU, no longer root, may not open it.
    const scratch = join(dir, 'scratch.raw');
    writeFileSync(scratch, Buffer.alloc(1 << 20));
    const file = { driver: 'file', filename: scratch };
    await t.rejects(dev.qmp('blockdev-add', { 'node-name': 'scratch', driver: 'raw', file }), {
      code: 'QMP_EXECUTE',
      message: /Permission denied.*\(QEMU runs as \S+\)/,
      hint: /--run-as-root/,
    });
    const high = await dev.addPort('0:80');
    t.ok(high.hostPort >= 1024, 'an unprivileged port still works');
    await dev.stop();
  },
);
