import { join } from 'node:path';
import t from 'tap';
import { checkKvmDevice } from '../../lib/host/kvm-device.js';

t.test('a missing device', async (t) => {
  const path = join(t.testdir(), 'kvm');
  const device = await checkKvmDevice(path);
  t.same(device, { path, exists: false, accessible: false, problem: device.problem });
  t.match(device.problem, `${path} missing`);
});

t.test('a device that exists but does not open read-write', async (t) => {
  // A directory cannot be opened for writing (EISDIR), even by root: a stand-in for a device we may not open.
  const path = t.testdir({ kvm: {} });
  const device = await checkKvmDevice(join(path, 'kvm'));
  t.match(device, { exists: true, accessible: false, problem: /not accessible read-write: EISDIR$/ });
});

t.test('something that opens read-write', async (t) => {
  const path = join(t.testdir({ kvm: '' }), 'kvm');
  t.same(await checkKvmDevice(path), { path, exists: true, accessible: true });
});

t.test('the default device answers without throwing', async (t) => {
  const device = await checkKvmDevice();
  t.equal(device.path, '/dev/kvm');
  t.equal(device.accessible, device.problem === undefined);
});
