// The warm record: derived from an argv plan with per-run parts left out, and read back checked.
import t from 'tap';
import { deviceList, parseWarmRecord, type WarmFacts, warmRecordOf } from '../../../lib/guest/warm/record.js';
import type { ResolvedMachine } from '../../../lib/machine/resolve.js';
import { normalizeSpec } from '../../../lib/machine/spec.js';
import type { ArgvPlan } from '../../../lib/qemu/argv.js';

const plan = (run: string, overrides: Partial<ArgvPlan> = {}, cpus = 2): ArgvPlan => ({
  spec: normalizeSpec({
    name: 'deb',
    arch: 'x86_64',
    cpus,
    memory: 1024,
    kernel: '/img/vmlinuz',
    disks: [
      { path: `/run/${run}/disk.qcow2`, format: 'qcow2' },
      { path: `/run/${run}/seed.iso`, format: 'raw', readOnly: true, serial: 'cidata' },
    ],
    forwards: run === 'a' ? ['2222:22', '8080:80', '5353:53/udp', '8081:80'] : [],
  }),
  binary: '/usr/bin/qemu-system-x86_64',
  accel: { accel: 'tcg' },
  qmpSocket: `/run/${run}/qmp.sock`,
  serialSocket: `/run/${run}/serial.sock`,
  guestAgentSocket: `/run/${run}/qga.sock`,
  memoryFile: { path: `/warm/${run}/ram.bin`, share: run === 'a' },
  vmgenid: run === 'a' ? '11111111-2222-3333-4444-555555555555' : '66666666-7777-8888-9999-000000000000',
  ...overrides,
});

t.test(
  'the device list leaves out sockets, disk and RAM paths, the GUID, share, forwards, -incoming and confinement',
  async (t) => {
    const warming = deviceList(plan('a'), 'pc-q35-7.2');
    const clone = plan('b', { incoming: true, confinement: { sandbox: true, runAs: 'nobody' } });
    t.same(
      deviceList({ ...clone, spec: { ...clone.spec, machineType: 'pc-q35-7.2' } }, 'pc-q35-7.2'),
      warming,
    );
    const text = warming.join(' ');
    for (const perRun of [
      '/run/',
      '/warm/',
      '1111',
      'hostfwd',
      'share=on',
      '-incoming',
      '-sandbox',
      '-runas',
    ]) {
      t.notOk(text.includes(perRun), `no ${perRun}`);
    }
    t.match(
      warming[warming.indexOf('-machine') + 1],
      /^pc-q35-7\.2,/,
      'the machine is the versioned type, not the alias',
    );
    t.ok(
      text.includes('memory-backend-file') && text.includes('vmgenid'),
      'the RAM backend and vmgenid are devices',
    );
  },
);

t.test('the device list changes with what the device state depends on', async (t) => {
  const saved = deviceList(plan('a'), 'pc-q35-7.2');
  t.not(deviceList(plan('b', {}, 1), 'pc-q35-7.2').join(' '), saved.join(' '), 'vCPUs');
  t.not(deviceList(plan('b', { vmgenid: undefined }), 'pc-q35-7.2').join(' '), saved.join(' '), 'vmgenid');
  t.not(deviceList(plan('b'), 'pc-q35-8.0').join(' '), saved.join(' '), 'machine type');
  t.not(
    deviceList(plan('b', { accel: { accel: 'tcg', cpu: 'qemu64' } }), 'pc-q35-7.2').join(' '),
    saved.join(' '),
    'CPU',
  );
});

const facts: WarmFacts = {
  saved: new Date('2026-01-02T03:04:05Z'),
  qemuVersion: '7.2.22',
  machineType: 'pc-q35-7.2',
  layers: [
    { path: 'layer.qcow2', format: 'qcow2' },
    { path: '/store/debian/disk.qcow2', format: 'qcow2' },
  ],
  ssh: { user: 'debian', key: 'id_ed25519', hostKeys: ['ssh-ed25519 AAAA'] },
  machine: { name: 'deb', arch: 'x86_64', cpus: 2, memoryMiB: 1024 } as unknown as ResolvedMachine,
  stateBytes: 800_000,
  ramBytes: 300_000_000,
};

t.test('the record holds what a restore needs, and reads back as written', async (t) => {
  const record = warmRecordOf(plan('a'), facts);
  t.match(record, {
    schema: 1,
    saved: '2026-01-02T03:04:05.000Z',
    arch: 'x86_64',
    qemu: { binary: '/usr/bin/qemu-system-x86_64', version: '7.2.22' },
    accel: 'tcg',
    machineType: 'pc-q35-7.2',
    cpuModel: 'max',
    cpus: 2,
    memoryMiB: 1024,
    vmgenid: true,
  });
  t.same(record.spec.network.forwards, [], 'forwards are per run');
  t.same(record.ports, [80], "clones forward the warmed guest's TCP ports but SSH's, once each");
  t.same(parseWarmRecord(JSON.stringify(record), 'w/warm.json'), JSON.parse(JSON.stringify(record)));
});

t.test('a malformed record is WARM_INVALID naming the field, never its content', async (t) => {
  const record = warmRecordOf(plan('a'), facts);
  const bad = (value: unknown) => () => parseWarmRecord(JSON.stringify(value), 'w/warm.json');
  t.throws(() => parseWarmRecord('{nope', 'w/warm.json'), { code: 'WARM_INVALID', message: /not JSON/ });
  t.throws(bad({ ...record, schema: 2 }), {
    code: 'WARM_INVALID',
    message: /schema 2/,
    hint: /warm it again/,
  });
  t.throws(bad({ ...record, qemu: { binary: '/q' } }), { code: 'WARM_INVALID', message: /field qemu/ });
  t.throws(bad({ ...record, accel: 'hvf' }), { code: 'WARM_INVALID', message: /field accel/ });
  t.throws(bad({ ...record, layers: [] }), { code: 'WARM_INVALID', message: /field layers/ });
  t.throws(bad({ ...record, ports: [0] }), { code: 'WARM_INVALID', message: /field ports/ });
  t.throws(bad({ ...record, ports: '80' }), { code: 'WARM_INVALID', message: /field ports/ });
  t.throws(bad({ ...record, ssh: { ...record.ssh, key: 'SECRET-KEY' }, cpus: -1 }), {
    code: 'WARM_INVALID',
    message: /^(?!.*SECRET)/,
  });
});
