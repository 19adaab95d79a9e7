// Finding virtiofsd through vhost-user descriptors: type fs only, an executable binary, higher dirs first.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { findVirtiofsd, fsBackendOf } from '../../lib/host/virtiofsd.js';

t.test('a descriptor names a filesystem backend only with type fs and an absolute binary', async (t) => {
  t.equal(fsBackendOf('{"type":"fs","binary":"/usr/lib/qemu/virtiofsd"}'), '/usr/lib/qemu/virtiofsd');
  t.equal(fsBackendOf('{"type":"gpu","binary":"/usr/bin/vhost-user-gpu"}'), undefined);
  t.equal(fsBackendOf('{"type":"fs","binary":"virtiofsd"}'), undefined);
  t.equal(fsBackendOf('not json'), undefined);
});

t.test(
  'findVirtiofsd: the first descriptor whose binary exists, a higher dir hiding a name below',
  async (t) => {
    const dir = t.testdir({ high: {}, low: {}, bin: {} });
    const bin = (name: string) => {
      const path = join(dir, 'bin', name);
      writeFileSync(path, '#!/bin/sh\n');
      chmodSync(path, 0o755);
      return path;
    };
    const good = bin('virtiofsd');
    const other = bin('other-virtiofsd');
    const descriptor = (where: string, name: string, binary: string) =>
      writeFileSync(join(dir, where, name), JSON.stringify({ type: 'fs', binary }));
    descriptor('low', '50-qemu-virtiofsd.json', good);
    descriptor('high', '50-qemu-virtiofsd.json', join(dir, 'bin', 'missing'));
    descriptor('low', '60-other.json', other);
    const dirs = [join(dir, 'high'), join(dir, 'low')];
    t.equal(await findVirtiofsd(dirs), other, 'the hidden name is skipped, a missing binary too');
    t.equal(await findVirtiofsd([join(dir, 'low')]), good);
    t.equal(await findVirtiofsd([join(dir, 'none')]), undefined);
  },
);
