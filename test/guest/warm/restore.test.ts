// The clone's clock step: `date` adds the measured offset to its own reading, so spawn latency does not count.
import { execa } from 'execa';
import t from 'tap';
import { clockStepArgv } from '../../../lib/guest/warm/restore.js';

t.test('the step is a signed, nanosecond relative time', async (t) => {
  t.same(clockStepArgv(3_600_123_456_789n), ['date', '-u', '-s', '+3600.123456789 seconds']);
  t.same(clockStepArgv(-600_000_000n), ['date', '-u', '-s', '-0.600000000 seconds']);
  t.same(clockStepArgv(5n), ['date', '-u', '-s', '+0.000000005 seconds']);
  t.same(clockStepArgv(0n), ['date', '-u', '-s', '+0.000000000 seconds']);
});

// GNU date reads the same words with -d as with -s: what it would set, without setting the host's clock.
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
for (const by of [86_400_000_123_456_789n, 1_500_000_000n, -600_000_000n, -3_600_000_000_000n]) {
  t.test(`GNU date steps a clock by ${by} ns from its own reading`, async (t) => {
    const [file, , , when] = clockStepArgv(by) as [string, string, string, string];
    const before = nowNs();
    const { stdout } = await execa(file, ['-u', '-d', when, '+%s%N']);
    const after = nowNs();
    const set = BigInt(stdout.trim());
    t.ok(set >= before + by - 1_000_000n && set <= after + by + 1_000_000n, `${set} is now + ${by}`);
  });
}
