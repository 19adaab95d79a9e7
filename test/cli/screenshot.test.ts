// An instance with a screen (`create --display vnc`): its VNC socket in the instance directory (0600, gone with a
// stop), `qlaunch screenshot` writes a PNG of it, the web page serves the same still; without a screen, the fix.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { serveUi } from '../../lib/ui/server.js';
import { cliPath } from '../fixtures/guests.js';
import { instanceTempDir, tinyMachineFile } from '../fixtures/instances.js';

t.setTimeout(300_000);

t.test(
  'screenshot from the CLI and the page; refused with the fix for an instance without a screen',
  async (t) => {
    const home = instanceTempDir(t);
    const root = join(home, 'instances');
    const q = (args: string[]) =>
      execa(process.execPath, [cliPath, ...args], {
        reject: false,
        env: { ...process.env, QLAUNCH_HOME: home },
      });
    const machine = await tinyMachineFile(home);
    for (const [name, extra] of [
      ['desk', ['--display', 'vnc']],
      ['plain', []],
    ] as const) {
      const created = await q(['create', name, '--machine', machine, '--accel', 'tcg', ...extra]);
      t.equal(created.exitCode, 0, created.stderr);
      t.teardown(() => q(['rm', '--force', name]));
    }
    t.equal(JSON.parse(readFileSync(join(root, 'desk', 'instance.json'), 'utf8')).display, 'vnc');
    t.equal((await q(['start', 'desk'])).exitCode, 0);
    const socket = join(root, 'desk', 'vnc.sock');
    t.equal(statSync(socket).mode & 0o777, 0o600, 'the VNC socket is 0600, in the instance directory');

    const out = join(home, 'desk.png');
    const shot = await q(['screenshot', 'desk', out]);
    t.equal(shot.exitCode, 0, shot.stderr);
    const png = readFileSync(out);
    t.same([...png.subarray(1, 4)], [...Buffer.from('PNG')], 'a PNG');
    t.ok(png.readUInt32BE(16) >= 640, 'of the screen');

    const server = await serveUi({ root });
    t.teardown(() => server.close());
    const token = new URL(server.url).searchParams.get('token') ?? '';
    const still = await fetch(`http://127.0.0.1:${server.port}/api/instances/desk/screen`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    t.equal(still.status, 200);
    t.equal(still.headers.get('content-type'), 'image/png');
    t.equal(
      Buffer.from(await still.arrayBuffer())
        .subarray(1, 4)
        .toString(),
      'PNG',
      'the page gets a PNG too',
    );
    t.equal(
      (await fetch(`http://127.0.0.1:${server.port}/api/instances/desk/screen`)).status,
      401,
      'not without the token',
    );

    t.equal((await q(['start', 'plain'])).exitCode, 0);
    const none = await q(['screenshot', 'plain', join(home, 'plain.png')]);
    t.equal(none.exitCode, 1);
    t.match(none.stderr, /instance plain has no screen\n {2}fix: .*--display vnc/);
    t.notOk(existsSync(join(home, 'plain.png')), 'no file written');
    const refused = await fetch(`http://127.0.0.1:${server.port}/api/instances/plain/screen`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    t.match(await refused.json(), { code: 'VM_NO_SCREEN', hint: /--display vnc/ }, 'the page shows the fix');

    t.equal((await q(['stop', 'desk', '--force'])).exitCode, 0);
    t.notOk(existsSync(socket), 'the socket is gone with the stop');
    await q(['stop', 'plain', '--force']);
  },
);
