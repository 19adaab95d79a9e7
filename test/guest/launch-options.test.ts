// launch() refuses option values that mean nothing, naming the option, before anything starts.

import t from 'tap';
import { launch } from '../../lib/guest/launch.js';

const kernel = { kernel: '/boot/vmlinuz-none', memory: '256M' };

t.test('each bad option value is refused by name, with a fix', async (t) => {
  const cases: [Parameters<typeof launch>[1], RegExp, string][] = [
    [{ startTimeout: -1 }, /^startTimeout -1 is not a positive number of milliseconds/, 'SPEC_INVALID'],
    [{ startTimeout: 0 }, /^startTimeout 0 /, 'SPEC_INVALID'],
    [{ startTimeout: Number.NaN }, /^startTimeout null /, 'SPEC_INVALID'],
    [{ startTimeout: 'abc' as unknown as number }, /^startTimeout "abc" /, 'SPEC_INVALID'],
    [
      { accel: { accel: 'bogus' } as never },
      /^accel \{"accel":"bogus"\} is not an accelerator/,
      'SPEC_INVALID',
    ],
    [{ binary: '/nonexistent/qemu' }, /^QEMU binary \/nonexistent\/qemu does not exist/, 'HOST_QEMU_MISSING'],
  ];
  for (const [options, message, code] of cases) {
    const error = await launch(kernel, options).then(
      () => undefined,
      (e: { code: string; message: string; hint?: string }) => e,
    );
    t.equal(error?.code, code, JSON.stringify(options));
    t.match(error?.message, message);
    t.ok(error?.hint, 'with a fix');
  }
  await t.rejects(launch({ image: 'x', hostname: 'bad name!' }, { readyTimeout: 1000 }), {
    code: 'SEED_INVALID',
    message: /hostname 'bad name!' is not a valid host name/,
  });
  await t.rejects(launch({ image: 'x' }, { readyTimeout: -1 }), {
    code: 'SPEC_INVALID',
    message: /^readyTimeout -1/,
  });
});
