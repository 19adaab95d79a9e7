// launch({ image }) for real: a Debian guest from the store, ready over SSH, with user-data, ports and cleanup.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { launch } from '../../lib/guest/launch.js';
import { findImage, openImageStore } from '../../lib/image/store.js';
import { alive, shortTempDir, testHome, useEnv } from '../fixtures/guests.js';

t.setTimeout(900_000);

const sha256 = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

const get = (port: number) =>
  new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/hello.txt' }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });

t.test(
  'a Debian cloud guest: ready, exec, user-data, a forwarded port, base untouched, nothing left',
  async (t) => {
    const home = await testHome();
    const runtime = shortTempDir(t);
    useEnv(t, { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime });
    const base = await findImage(openImageStore({ dir: join(home, 'images') }), 'debian-12-local');
    t.ok(base, 'the test store has debian-12-local');
    const before = await sha256(base?.path ?? '');
    const dir = t.testdir({
      'user-data': [
        '#cloud-config',
        'write_files:',
        '  - path: /srv/www/hello.txt',
        '    content: hello through the forward',
        'runcmd:',
        '  - [sh, -c, "cd /srv/www && nohup python3 -m http.server 8000 >/dev/null 2>&1 &"]',
        '',
      ].join('\n'),
    });
    const vm = await launch(
      {
        image: 'debian-12-local',
        cpus: 2,
        accel: 'tcg',
        ports: ['0:8000'],
        userData: join(dir, 'user-data'),
      },
      { readyTimeout: 600_000 },
    );
    t.teardown(() => vm.kill());
    t.ok(existsSync(join(vm.dir, 'disk.qcow2')), 'the guest runs on an overlay in the run dir');

    const result = await vm.ssh.exec(['sh', '-c', 'hostname; cat /srv/www/hello.txt; echo oops >&2; exit 3']);
    t.equal(result.exitCode, 3);
    t.equal(result.stdout, 'debian-12-local\nhello through the forward');
    t.equal(result.stderr, 'oops\n');
    const quoted = await vm.ssh.exec(['printf', '%s|', "it's $HOME", 'a b']);
    t.equal(quoted.stdout, "it's $HOME|a b|", 'argv arrives verbatim');
    const write = await vm.ssh.exec([
      'sh',
      '-c',
      'dd if=/dev/urandom of=/home/debian/junk bs=1M count=8 status=none && sync',
    ]);
    t.equal(write.exitCode, 0, 'the guest wrote to its disk');

    // The Guest API a harness uses: exec over the guest agent, files in and out byte for byte.
    const viaAgent = await vm.exec(['sh', '-c', 'id -un; echo err >&2; exit 4']);
    t.same(
      viaAgent,
      { stdout: 'root\n', stderr: 'err\n', exitCode: 4 },
      'exec runs over the guest agent (as root)',
    );
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    writeFileSync(join(dir, 'in.bin'), bytes);
    await vm.copyIn(join(dir, 'in.bin'), '/tmp/in.bin');
    t.equal(
      (await vm.exec(['sha256sum', '/tmp/in.bin'])).stdout.split(' ')[0],
      createHash('sha256').update(bytes).digest('hex'),
      'copyIn is byte for byte',
    );
    await vm.copyOut('/tmp/in.bin', join(dir, 'out.bin'));
    t.same(readFileSync(join(dir, 'out.bin')), bytes, 'copyOut is byte for byte');
    await t.rejects(vm.copyOut('/nonexistent', join(dir, 'x')), {
      code: 'VM_EXEC_FAILED',
      message: /\/nonexistent/,
    });

    const forward = await vm.forwardPort(8000);
    let body = '';
    for (let i = 0; i < 30 && body === ''; i++) {
      body = await get(forward.hostPort).catch(async () => {
        await new Promise((r) => setTimeout(r, 1000));
        return '';
      });
    }
    t.equal(body, 'hello through the forward', 'a forwarded port reaches a guest service');

    const exit = await vm.stop({ timeout: 60_000 });
    t.equal(exit.how, 'guest-shutdown');
    t.notOk(alive(vm.pid), 'no QEMU left');
    t.notOk(existsSync(vm.dir), 'overlay, seed and key are gone');
    t.same(readdirSync(join(runtime, 'qlaunch')), [], 'no run dirs left');
    t.equal(await sha256(base?.path ?? ''), before, 'the base image is byte for byte unchanged');
  },
);
