// The clone's clock step: the guest adds the measured offset to its own reading, so spawn latency does not count.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { clockStepScript } from '../../../lib/guest/warm/restore.js';

// A `date` that reads a fixed clock and records what it is asked to set.
const fakeDate = (dir: string, now: string) => {
  const path = join(dir, 'date');
  writeFileSync(
    path,
    `#!/bin/sh\nif [ "$1" = +%s%N ]; then echo ${now}; else printf '%s\\n' "$@" > "${dir}/set"; fi\n`,
  );
  chmodSync(path, 0o755);
};

for (const [now, by, want] of [
  ['1700000000123456789', 3_600_000_000_000n, '@1700003600.123456789'],
  ['1700000000000000005', 999_999_995n, '@1700000001.000000000'],
  ['1700000000500000000', -600_000_000n, '@1699999999.900000000'],
] as const) {
  t.test(`a clock at ${now} ns stepped by ${by} ns is set to ${want}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'qlaunch-clock-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    fakeDate(dir, now);
    const result = await execa('sh', ['-c', clockStepScript(by)], {
      env: { PATH: `${dir}:${process.env['PATH']}` },
    });
    t.equal(result.exitCode, 0);
    t.same(readFileSync(join(dir, 'set'), 'utf8').split('\n'), ['-u', '-s', want, '']);
  });
}

t.test('a date without nanoseconds fails the script, so the caller falls back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'qlaunch-clock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  fakeDate(dir, '1700000000N');
  const result = await execa('sh', ['-c', clockStepScript(1n)], {
    env: { PATH: `${dir}:${process.env['PATH']}` },
    reject: false,
  });
  t.not(result.exitCode, 0);
});
