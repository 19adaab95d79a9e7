// Which snapshots may load: the same machine type and QEMU release as the VM that runs now (pure).

import t from 'tap';
import { checkSnapshotOrigin } from '../../../lib/guest/snapshot/snapshot-origin.js';

const running = { machineType: 'pc-q35-7.2', qemuVersion: '7.2.22' };

t.test('the same type and release loads; a stable update too', async (t) => {
  t.doesNotThrow(() => checkSnapshotOrigin('a', running, running));
  t.doesNotThrow(() => checkSnapshotOrigin('a', { ...running, qemuVersion: '7.2.19' }, running));
});

t.test('another release or machine type is refused, naming both sides and the fix', async (t) => {
  for (const saved of [
    { machineType: 'pc-q35-7.2', qemuVersion: '8.2.2' },
    { machineType: 'pc-q35-6.2', qemuVersion: '7.2.22' },
  ]) {
    t.throws(() => checkSnapshotOrigin('clean', saved, running), {
      code: 'VM_SNAPSHOT_INCOMPATIBLE',
      message: new RegExp(
        `'clean'.*${saved.machineType} by QEMU ${saved.qemuVersion}.*pc-q35-7\\.2 on QEMU 7\\.2\\.22`,
      ),
      hint: /snapshot rm/,
    });
  }
});
