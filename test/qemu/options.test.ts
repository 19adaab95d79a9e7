// QEMU option strings: what is escaped for QEMU reads back the same, and a running QEMU's QMP socket is found in
// its argv whatever its path holds.

import fc from 'fast-check';
import t from 'tap';
import { normalizeSpec } from '../../lib/machine/spec.js';
import { buildQemuArgv, qmpSocketOf } from '../../lib/qemu/argv.js';
import { escapeOptionValue, parseOptionString } from '../../lib/qemu/options.js';

// Paths as they come: commas (QEMU's separator), `=`, spaces, colons, quotes, newlines, unicode.
const pathChar = fc.constantFrom(...'ab/,=: \'"$()\n', 'é', '日', '🙂');
const path = fc.array(pathChar, { minLength: 1, maxLength: 40 }).map((cs) => `/${cs.join('')}`);

t.test('parseOptionString reads what QEMU reads', async (t) => {
  t.same(
    [...parseOptionString('socket,id=q,path=/a,,b=c,,,server=on,wait', 'backend')],
    [
      ['backend', 'socket'],
      ['id', 'q'],
      ['path', '/a,b=c,'],
      ['server', 'on'],
      ['wait', 'on'],
    ],
  );
  t.equal(escapeOptionValue('a,b,,c'), 'a,,b,,,,c');
  fc.assert(
    fc.property(path, (value) => parseOptionString(`x,k=${escapeOptionValue(value)},z=1`).get('k') === value),
  );
});

t.test('qmpSocketOf finds the QMP socket buildQemuArgv wrote, for any path', async (t) => {
  const spec = normalizeSpec({ name: 'c', kernel: '/k/vmlinux' });
  fc.assert(
    fc.property(path, path, (dir, other) => {
      const { args } = buildQemuArgv({
        spec,
        binary: 'qemu-system-x86_64',
        accel: { accel: 'tcg' },
        // The serial socket and log name other paths, which must not be mistaken for it.
        serialSocket: `${other}/serial.sock`,
        serialLog: `${dir},path=${other}`,
        qmpSocket: `${dir}/qmp.sock`,
        guestAgentSocket: `${dir}/qga.sock`,
        pidFile: `${dir}/qemu.pid`,
      });
      return qmpSocketOf(args) === `${dir}/qmp.sock`;
    }),
  );
  t.equal(qmpSocketOf(['-chardev', 'socket,id=serial0,path=/a/qmp.sock']), undefined, 'another chardev');
  t.equal(qmpSocketOf(['-name', 'c']), undefined);
});
