// Machine files' `mounts:`: host paths relative to the file, defaults, and what is refused.
import t from 'tap';
import { parseMachineText } from '../../lib/machine/file.js';
import { resolveMachine } from '../../lib/machine/resolve.js';

const text = (mounts: string) => `image: { name: debian-12-local }\nmounts:\n${mounts}`;

t.test('mounts: host paths resolved against the file, guest path and access defaulted', async (t) => {
  const def = parseMachineText(
    text('  - { host: ./src, guest: /src, writable: true, type: 9p }\n  - { host: /srv/data }\n'),
    '/m/dev.yaml',
  );
  t.same(def.mounts, [
    { host: '/m/src', guest: '/src', writable: true, type: '9p' },
    { host: '/srv/data', guest: '/srv/data', writable: false, type: 'auto' },
  ]);
  t.same(resolveMachine(def).mounts, def.mounts, 'a resolved machine keeps them');
  t.equal(parseMachineText('image: { name: debian-12-local }\n', '/m/x.yaml').mounts, undefined);
});

t.test('bad mounts are refused naming the field', async (t) => {
  t.throws(() => parseMachineText(text('  - { host: ./src, type: nfs }\n'), '/m/x.yaml'), {
    code: 'MACHINE_INVALID',
    message: /mounts\[0\]\.type .*not one of virtiofs, 9p, auto/,
  });
  t.throws(() => parseMachineText(text('  - { host: ./src, guest: src }\n'), '/m/x.yaml'), {
    code: 'MACHINE_INVALID',
    message: /mounts\[0\]\.guest .*not an absolute path/,
  });
  t.throws(() => parseMachineText(text('  - { host: ./src, ro: true }\n'), '/m/x.yaml'), {
    code: 'MACHINE_INVALID',
  });
  t.throws(
    () => parseMachineText(text('  - { host: /a, guest: /x }\n  - { host: /b, guest: /x }\n'), '/m/x.yaml'),
    {
      code: 'SPEC_INVALID',
      message: 'guest path /x is mounted twice',
    },
  );
});
