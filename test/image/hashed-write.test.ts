import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isAllZero, writeHashed } from '../../lib/image/hashed-write.js';

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

t.test('zero detection covers every byte, across long chunks', async (t) => {
  t.ok(isAllZero(new Uint8Array(0)));
  t.ok(isAllZero(new Uint8Array(200_000)));
  for (const at of [0, 65_535, 65_536, 199_999]) {
    const chunk = new Uint8Array(200_000);
    chunk[at] = 1;
    t.notOk(isAllZero(chunk), `a byte at ${at}`);
  }
});

t.test('bytes land exactly, hashed, 0600; zero chunks become holes', async (t) => {
  const dir = t.testdir();
  const data = new Uint8Array(1024 * 1024).fill(3);
  const zeros = new Uint8Array(8 * 1024 * 1024);
  const seen: number[] = [];
  const dest = join(dir, 'out');
  const result = await writeHashed(chunks(data, zeros, data, zeros), dest, {
    algorithm: 'sha256',
    onBytes: (n) => seen.push(n),
  });
  const expected = Buffer.concat([data, zeros, data, zeros]);
  t.equal(result.bytes, expected.length);
  t.equal(result.checksum.hex, createHash('sha256').update(expected).digest('hex'));
  t.ok(readFileSync(dest).equals(expected), 'trailing zeros too: the file is truncated to its full length');
  const st = statSync(dest);
  t.equal(st.mode & 0o777, 0o600);
  t.ok(st.blocks * 512 < 4 * 1024 * 1024, `sparse: ${st.blocks * 512} bytes allocated for ${st.size}`);
  t.same(seen, [data.length, data.length + zeros.length, 2 * data.length + zeros.length, expected.length]);
});

t.test('an existing file is never overwritten; a failing or aborted source leaves nothing', async (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'taken'), 'keep');
  await t.rejects(writeHashed(chunks(), join(dir, 'taken'), { algorithm: 'sha256' }), { code: 'EEXIST' });
  t.equal(readFileSync(join(dir, 'taken'), 'utf8'), 'keep');

  async function* failing(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(10).fill(1);
    throw new Error('source broke');
  }
  await t.rejects(writeHashed(failing(), join(dir, 'f'), { algorithm: 'sha256' }), {
    message: 'source broke',
  });
  t.notOk(existsSync(join(dir, 'f')));

  const controller = new AbortController();
  async function* aborting(): AsyncGenerator<Uint8Array> {
    yield new Uint8Array(10).fill(1);
    controller.abort();
    yield new Uint8Array(10).fill(1);
  }
  await t.rejects(
    writeHashed(aborting(), join(dir, 'a'), {
      algorithm: 'sha256',
      signal: controller.signal,
      what: 'copying x',
    }),
    { code: 'IMAGE_ABORTED', message: 'copying x aborted' },
  );
  t.notOk(existsSync(join(dir, 'a')));
  await t.rejects(writeHashed(chunks(), join(dir, 'b'), { algorithm: 'sha256', signal: controller.signal }), {
    code: 'IMAGE_ABORTED',
    message: `writing ${join(dir, 'b')} aborted`,
  });
  t.notOk(existsSync(join(dir, 'b')));
});
