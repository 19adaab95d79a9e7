// Whether a warm record restores on a host: same QEMU, accelerator, CPU model, and the machine type offered.
import t from 'tap';
import { checkWarmCompat, type WarmHost } from '../../../lib/guest/warm/compat.js';
import type { WarmRecord } from '../../../lib/guest/warm/record.js';

const record = {
  qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '7.2.22' },
  accel: 'tcg',
  cpuModel: 'max',
  machineType: 'pc-q35-7.2',
} as WarmRecord;

const host: WarmHost = {
  qemuVersion: '7.2.22',
  accel: 'tcg',
  cpuModel: 'max',
  machines: [
    { name: 'q35', description: 'Standard PC', aliasOf: 'pc-q35-7.2', isDefault: false },
    { name: 'pc-q35-7.2', description: 'Standard PC', isDefault: false },
  ],
};

t.test('the same QEMU, accelerator, CPU and machine type: restorable', async (t) => {
  t.doesNotThrow(() => checkWarmCompat(record, host, 'w'));
  t.doesNotThrow(
    () => checkWarmCompat(record, { ...host, machines: [] }, 'w'),
    'machine list unknown: QEMU decides',
  );
});

t.test('any difference is WARM_INCOMPATIBLE naming both sides, with "warm it again"', async (t) => {
  const cases: [Partial<WarmHost>, RegExp][] = [
    [{ qemuVersion: '8.2.2' }, /QEMU 7\.2\.22, but this host has QEMU 8\.2\.2/],
    [{ accel: 'kvm' }, /accelerator tcg, but this host has kvm/],
    [{ cpuModel: 'host' }, /CPU model max, but this host has host/],
    [{ machines: [{ name: 'pc-q35-8.2', description: '', isDefault: false }] }, /machine type pc-q35-7\.2/],
  ];
  for (const [change, message] of cases) {
    t.throws(() => checkWarmCompat(record, { ...host, ...change }, 'w'), {
      code: 'WARM_INCOMPATIBLE',
      message,
      hint: /warm it again/,
    });
  }
});
