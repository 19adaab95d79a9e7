// Seed inputs are read as bytes, "-" from stdin, within a bound: never a string, never without end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import t from 'tap';
import { readInputFile } from '../../lib/cidata/input-file.js';
import { loadSeedInputs, loadUserData } from '../../lib/cidata/seed-inputs.js';

const bytes = Uint8Array.from([...Buffer.from('#!/bin/sh\necho caf'), 0xe9, 0x0a]);

t.test('a file comes back byte for byte; - is read from the stdin reader', async (t) => {
  const dir = t.testdir({ 'a.sh': Buffer.from(bytes) });
  t.same(await readInputFile(join(dir, 'a.sh'), { what: 'user-data', maxBytes: 100 }), Buffer.from(bytes));
  const stdin = async (max: number) => (max >= bytes.length ? bytes : undefined);
  t.same(await readInputFile('-', { what: 'user-data', maxBytes: 100, stdin }), bytes);
  await t.rejects(readInputFile('-', { what: 'user-data', maxBytes: 4, stdin }), {
    code: 'SEED_TOO_LARGE',
    message: 'user-data from standard input is larger than 4 bytes',
  });
});

t.test('missing files, directories, and inputs past the bound are errors with a fix', async (t) => {
  const dir = t.testdir({ sub: {} });
  writeFileSync(join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024));
  const options = { what: 'user-data', maxBytes: 2 * 1024 * 1024 };
  await t.rejects(readInputFile(join(dir, 'nope'), options), {
    code: 'SEED_INVALID',
    message: /user-data file .*nope does not exist/,
    hint: /- to read it from standard input/,
  });
  await t.rejects(readInputFile(join(dir, 'sub'), options), {
    code: 'SEED_INVALID',
    message: /sub is a directory/,
  });
  await t.rejects(readInputFile(join(dir, 'big'), options), {
    code: 'SEED_TOO_LARGE',
    message: /big is larger than 2 MiB/,
    hint: /configuration, not payloads/,
  });
  await t.rejects(readInputFile('/dev/zero', options), { code: 'SEED_TOO_LARGE', message: /\/dev\/zero/ });
});

t.test('loadUserData and loadSeedInputs keep bytes and say the kind', async (t) => {
  const gz = gzipSync('#cloud-config\nhostname: x\n');
  const dir = t.testdir({ 'a.sh': Buffer.from(bytes), 'u.gz': gz, 'meta.yaml': 'instance-id: iid-9\n' });
  t.same(await loadUserData(join(dir, 'a.sh')), { data: Buffer.from(bytes), kind: 'script' });
  const loaded = await loadSeedInputs({
    userData: join(dir, 'u.gz'),
    vendorData: join(dir, 'a.sh'),
    metaData: join(dir, 'meta.yaml'),
  });
  t.same(loaded.files['user-data'], gz);
  t.same(loaded.files['vendor-data'], Buffer.from(bytes));
  t.same(
    Buffer.from(loaded.files['meta-data']).toString(),
    'instance-id: iid-9\n',
    'meta-data passed through',
  );
  t.equal(loaded.userDataKind, 'cloud-config');
  t.equal(loaded.instanceId, 'iid-9');
  await t.rejects(
    loadSeedInputs({ userData: '-', metaData: '-' }, async () => bytes),
    {
      code: 'USAGE',
      message: /user-data and meta-data would both be read from standard input/,
    },
  );
});
