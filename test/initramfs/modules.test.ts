// Module load order: found by name, dependencies first, built-ins skipped, what is missing named.
import t from 'tap';
import {
  builtinModules,
  loadOrder,
  modinfoDepends,
  moduleIndex,
  moduleName,
} from '../../lib/initramfs/modules.js';

t.test('a module name is its file name less .ko and compression, with _ for -', async (t) => {
  t.equal(moduleName('kernel/drivers/pci/controller/pci-host-generic.ko'), 'pci_host_generic');
  t.equal(moduleName('kernel/fs/9p/9p.ko.xz'), '9p');
  t.equal(moduleName('kernel/fs/overlayfs/overlay.ko.zst'), 'overlay');
});

t.test('modules.order and modules.builtin read as a name index and a set', async (t) => {
  const index = moduleIndex('kernel/fs/9p/9p.ko\nkernel/net/9p/9pnet.ko\n\nkernel/fs/x.o\n');
  t.same(
    [...index],
    [
      ['9p', 'kernel/fs/9p/9p.ko'],
      ['9pnet', 'kernel/net/9p/9pnet.ko'],
    ],
  );
  t.same([...builtinModules('kernel/drivers/virtio/virtio_pci.ko\n\n')], ['virtio_pci']);
});

t.test("depends= is read from a module's modinfo", async (t) => {
  const ko = Buffer.from('\x7fELF...\0license=GPL\0depends=9pnet,netfs\0intree=Y\0name=9p\0');
  t.same(modinfoDepends(ko), ['9pnet', 'netfs']);
  t.same(modinfoDepends(Buffer.from('\0depends=\0name=overlay\0')), []);
  t.same(modinfoDepends(Buffer.from('no modinfo')), []);
});

t.test('dependencies load first, each once; built-ins are skipped; missing ones are named', async (t) => {
  const index = moduleIndex(
    ['9p', '9pnet', '9pnet_virtio', 'netfs', 'overlay', 'virtio_net', 'net_failover', 'failover']
      .map((n) => `kernel/${n}.ko`)
      .join('\n'),
  );
  const deps: Record<string, string[]> = {
    '9p': ['9pnet', 'netfs'],
    '9pnet_virtio': ['9pnet', 'virtio_ring'],
    virtio_net: ['net_failover'],
    net_failover: ['failover'],
  };
  const read: string[] = [];
  const plan = await loadOrder(
    ['virtio_net', '9pnet_virtio', '9p', 'overlay', 'virtiofs'],
    index,
    new Set(['virtio_ring']),
    async (name) => {
      read.push(name);
      return deps[name] ?? [];
    },
  );
  t.same(plan.order, [
    'failover',
    'net_failover',
    'virtio_net',
    '9pnet',
    '9pnet_virtio',
    'netfs',
    '9p',
    'overlay',
  ]);
  t.same(plan.missing, ['virtiofs']);
  t.equal(new Set(read).size, read.length, 'each module read once');
});

t.test('a dependency cycle does not loop', async (t) => {
  const index = moduleIndex('a.ko\nb.ko\n');
  const plan = await loadOrder(['a'], index, new Set(), async (name) => (name === 'a' ? ['b'] : ['a']));
  t.same(plan.order, ['b', 'a']);
});
