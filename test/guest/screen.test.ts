// Guests with a screen: a graphics device shown by a VNC server on a private unix socket (never TCP), and still
// pictures through QMP screendump; a guest without one says how to give it one.

import { existsSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import t from 'tap';
import { ARCH_TABLE } from '../../lib/arch/table.js';
import { launch } from '../../lib/guest/launch.js';
import { normalizeSpec } from '../../lib/machine/spec.js';
import { buildQemuArgv } from '../../lib/qemu/argv.js';
import { holdingTiny } from '../fixtures/guests.js';

t.setTimeout(300_000);

/** The first bytes a server on unix socket `path` sends (a VNC server greets with its protocol version). */
const greeting = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(path);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1'));
    });
    socket.once('error', reject);
  });

/** Width and height from a PNG's IHDR, after checking its signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  if (!bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    throw new Error('not a PNG');
  }
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** How many distinct colours a binary PPM (P6, maxval 255) holds. */
function ppmColours(bytes: Buffer): number {
  const header = /^P6\s+(\d+)\s+(\d+)\s+255\s/.exec(bytes.subarray(0, 40).toString('latin1'));
  if (!header) throw new Error('not a P6 PPM');
  const pixels = bytes.subarray(header[0].length);
  const seen = new Set<number>();
  for (let i = 0; i + 2 < pixels.length && seen.size < 64; i += 3) {
    seen.add(((pixels[i] ?? 0) << 16) | ((pixels[i + 1] ?? 0) << 8) | (pixels[i + 2] ?? 0));
  }
  return seen.size;
}

t.test(
  'argv: the arch table device and a unix-socket VNC server; the kernel writes to the screen too',
  async (t) => {
    for (const arch of ['x86_64', 'aarch64', 'riscv64'] as const) {
      const spec = normalizeSpec({ arch, kernel: '/k', display: 'vnc' });
      const { args } = buildQemuArgv({
        spec,
        binary: 'qemu',
        accel: { accel: 'tcg' } as never,
        qmpSocket: '/r/q.sock',
        serialSocket: '/r/s.sock',
        vncSocket: '/r/v,nc.sock',
      });
      const device = args.indexOf(ARCH_TABLE[arch].displayDevice);
      t.equal(args[device - 1], '-device', `${arch}: ${ARCH_TABLE[arch].displayDevice}`);
      t.equal(
        args[args.indexOf('-vnc') + 1],
        'unix:/r/v,,nc.sock',
        `${arch}: VNC on the socket, comma escaped`,
      );
      t.match(args[args.indexOf('-append') + 1], `console=tty0 console=${ARCH_TABLE[arch].console}`);
      t.notOk(
        args.some((a) => /^\d+\.\d+\.\d+\.\d+:\d+$|^:\d+$/.test(a)),
        `${arch}: no TCP display`,
      );
    }
    const plain = normalizeSpec({ arch: 'x86_64', kernel: '/k' });
    const { args } = buildQemuArgv({
      spec: plain,
      binary: 'qemu',
      accel: { accel: 'tcg' } as never,
      qmpSocket: '/r/q.sock',
      serialSocket: '/r/s.sock',
    });
    t.notOk(args.includes('-vnc'), 'no display asked: no VNC');
    t.notOk(args.includes('virtio-vga'), 'and no graphics device');
    t.throws(() => normalizeSpec({ arch: 'x86_64', kernel: '/k', display: 'sdl' }), {
      code: 'SPEC_INVALID',
      message: "display 'sdl' is not known",
    });
  },
);

t.test('a tiny guest with a screen: VNC speaks on a 0600 socket, screendump shows text', async (t) => {
  const tiny = await holdingTiny();
  // The kernel's messages on the screen too (the tiny guest is quiet on its serial console).
  const guest = await launch({
    ...tiny,
    append: `${tiny.append} console=tty0 console=ttyS0 loglevel=7`,
    display: 'vnc',
  });
  try {
    await guest.console.waitFor('QLAUNCH-HOLDING', { timeout: 120_000 });
    const socket = guest.vncSocket ?? '';
    t.equal(statSync(socket).mode & 0o777, 0o600, 'the VNC socket is 0600');
    t.equal(statSync(dirname(socket)).mode & 0o777, 0o700, 'in a private directory');
    t.match(await greeting(socket), /^RFB 003\.00\d\n/, 'a VNC server answers on it');
    const png = await guest.screenshot();
    const size = pngSize(png);
    t.ok(size.width >= 640 && size.height >= 400, `a PNG of the screen (${size.width}×${size.height})`);
    t.ok(ppmColours(await guest.screenshot({ format: 'ppm' })) > 1, 'not blank: text is drawn');
  } finally {
    await guest.kill();
  }
  t.notOk(existsSync(dirname(guest.vncSocket ?? '')), 'the socket directory is gone with the guest');
});

t.test('a guest without a screen: VM_NO_SCREEN, with the fix', async (t) => {
  const guest = await launch(await holdingTiny());
  try {
    t.equal(guest.vncSocket, undefined);
    await t.rejects(guest.screenshot(), {
      code: 'VM_NO_SCREEN',
      message: 'has no screen',
      hint: /--display vnc/,
    });
  } finally {
    await guest.kill();
  }
});
