import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { type InstanceConfig, readInstanceConfig, writeInstanceConfig } from '../../lib/instance/config.js';

const config: InstanceConfig = {
  schema: 1,
  name: 'dev',
  created: '2026-11-26T00:00:00.000Z',
  source: 'debian-12',
  arch: 'x86_64',
  cpus: 2,
  memoryMiB: 2048,
  accel: 'auto',
  base: { path: '/store/debian-12/disk.qcow2', format: 'qcow2' },
  disk: true,
  seed: true,
  ports: [{ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 }],
  networks: [{ name: 'lab', mac: '02:00:00:00:00:01' }],
  mac: '02:00:00:00:00:02',
  sshUser: 'debian',
  readiness: 'cloud-init',
};

t.test('the config round-trips and is private', async (t) => {
  const path = join(t.testdir(), 'instance.json');
  await writeInstanceConfig(path, config);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.same(await readInstanceConfig(path), config);
  t.match(readFileSync(path, 'utf8'), /^\{\n {2}"schema": 1,/, 'readable JSON for people');
});

t.test('a damaged config is named with the fix', async (t) => {
  const dir = t.testdir();
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{"schema": 1,');
  await t.rejects(readInstanceConfig(broken), {
    code: 'INSTANCE_CONFIG_INVALID',
    message: new RegExp(`${broken} is damaged`),
  });
  const wrong = join(dir, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ ...config, cpus: 0 }));
  await t.rejects(readInstanceConfig(wrong), { code: 'INSTANCE_CONFIG_INVALID', message: /cpus/ });
  await t.rejects(readInstanceConfig(join(dir, 'missing.json')), { code: 'ENOENT' });
});
