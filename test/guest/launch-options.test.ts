// launch() refuses option values that mean nothing, naming the option, before anything starts.

import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { Instance } from '../../lib/instance/instance.js';
import { shortTempDir, tinyGuest } from '../fixtures/guests.js';
import { tinyMachineFile } from '../fixtures/instances.js';

// Two tests boot a tiny guest or start an instance.
t.setTimeout(240_000);

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

t.test('a binary given by name boots from PATH; one that is nowhere is HOST_QEMU_MISSING', async (t) => {
  const tiny = await tinyGuest('x86_64');
  const spec = { kernel: tiny.kernel, initrd: tiny.initrd, append: tiny.append, memory: '256M' };
  // No accel: the binary goes through the accelerator probe too.
  const vm = await launch(spec, { binary: 'qemu-system-x86_64' });
  t.teardown(() => vm.kill());
  await vm.waitForSerial(tiny.readyMarker, { timeout: 90_000 });
  t.pass('the guest booted');
  await vm.kill();
  for (const binary of ['qemu-system-nowhere', './no/such/qemu']) {
    await t.rejects(launch(spec, { binary }), {
      code: 'HOST_QEMU_MISSING',
      message: new RegExp(`^QEMU binary ${binary.replace(/\./g, '\\.')} (is not on PATH|does not exist)`),
      hint: /\S/,
    });
  }
});

t.test('an instance refuses an unknown accelerator and a binary that is nowhere', async (t) => {
  const root = shortTempDir(t);
  const machine = await tinyMachineFile(root);
  const dev = await Instance.create({ name: 'dev', machine, accel: 'tcg' }, { root });
  t.teardown(() => Instance.destroy('dev', { root, force: true }).catch(() => {}));
  await t.rejects(dev.start({ accel: 'bogus' as never }), {
    code: 'SPEC_INVALID',
    message: /^accel \{"accel":"bogus"\} is not an accelerator/,
  });
  await t.rejects(dev.start({ binary: 'qemu-system-nowhere' }), { code: 'HOST_QEMU_MISSING', hint: /\S/ });
  t.match(await dev.status(), { state: 'stopped' }, 'nothing was started');
});
