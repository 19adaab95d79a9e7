// What QEMU can no longer do once it dropped root is refused with the way out: a host port below 1024 added
// while it runs. Given at start, QEMU binds it while still root.

import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(600_000);

const root = process.getuid?.() === 0;

t.test(
  'a privileged host port added at run time names --run-as-root',
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
    const high = await dev.addPort('0:80');
    t.ok(high.hostPort >= 1024, 'an unprivileged port still works');
    await dev.stop();
  },
);
