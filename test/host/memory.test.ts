import { totalmem } from 'node:os';
import t from 'tap';
import { checkGuestMemory, memoryProblem } from '../../lib/host/memory.js';

t.test('memory the host has is fine; more is refused naming both sizes and a fix', async (t) => {
  t.equal(memoryProblem(2048, 24 * 1024), undefined);
  t.equal(memoryProblem(24 * 1024, 24 * 1024), undefined);
  const error = memoryProblem(10 * 1024 * 1024, 24 * 1024);
  t.equal(error?.code, 'SPEC_INVALID');
  t.equal(error?.message, 'memory 10240 GiB is more than this host has (24 GiB)');
  t.match(error?.hint, /at most 24 GiB/);
  t.match(memoryProblem(1536, 1024)?.message, /memory 1\.5 GiB is more than this host has \(1 GiB\)/);
});

t.test('the check reads this host', async (t) => {
  const hostMiB = Math.floor(totalmem() / 2 ** 20);
  t.doesNotThrow(() => checkGuestMemory(256));
  t.throws(() => checkGuestMemory(hostMiB + 1), { code: 'SPEC_INVALID' });
});
