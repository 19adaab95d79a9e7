import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { acquireLock, createLockKey, lockAddress } from '../../lib/instance/lock.js';

// The built module (scripts/test builds before tap runs): a plain node child needs JavaScript.
const lockModule = fileURLToPath(new URL('../../dist/lib/instance/lock.js', import.meta.url));

t.test('one holder at a time; the loser is told the instance is busy', async (t) => {
  const dir = t.testdir();
  const key = join(dir, 'lock.key');
  await createLockKey(key);
  await t.rejects(createLockKey(key), { code: 'EEXIST' }, 'a key is never overwritten');
  const first = await acquireLock('dev', dir, key, 'start');
  await t.rejects(acquireLock('dev', dir, key, 'stop'), {
    code: 'INSTANCE_BUSY',
    message: /instance dev is busy.*could not stop it/,
  });
  await first.release();
  const again = await acquireLock('dev', dir, key, 'stop');
  await again.release();
});

t.test('a missing key means an unfinished instance', async (t) => {
  const dir = t.testdir();
  await t.rejects(acquireLock('dev', dir, join(dir, 'lock.key'), 'start'), { code: 'INSTANCE_NOT_FOUND' });
});

t.test('lock names depend on the directory and the secret key', async (t) => {
  t.equal(lockAddress('/a', 'k'), lockAddress('/a', 'k'));
  t.not(lockAddress('/a', 'k'), lockAddress('/b', 'k'));
  t.not(lockAddress('/a', 'k'), lockAddress('/a', 'k2'));
  t.match(lockAddress('/a', 'k'), /^\0qlaunch-lock\/[0-9a-f]{32}$/);
});

t.test('the kernel releases the lock when its holder is killed', async (t) => {
  const dir = t.testdir();
  const key = join(dir, 'lock.key');
  await createLockKey(key);
  // A separate process takes the lock and is then SIGKILLed: no cleanup code of its own runs.
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import(${JSON.stringify(lockModule)}).then(async (m) => { await m.acquireLock('dev', ${JSON.stringify(dir)}, ${JSON.stringify(key)}, 'start'); console.log('held'); setInterval(() => {}, 1000); })`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
  await t.rejects(acquireLock('dev', dir, key, 'start'), { code: 'INSTANCE_BUSY' });
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  const lock = await acquireLock('dev', dir, key, 'start');
  await lock.release();
});
