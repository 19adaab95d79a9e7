// `qlaunch run IMAGE -- COMMAND` for real, and the ways it must fail cleanly.

import { readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { cliPath, shortTempDir, testHome } from '../fixtures/guests.js';

t.setTimeout(900_000);

async function qlaunch(args: string[], env: NodeJS.ProcessEnv) {
  return execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { ...process.env, ...env },
    extendEnv: false,
  });
}

t.test('run IMAGE -- COMMAND: output streamed, exit code passed through, nothing left', async (t) => {
  const home = await testHome();
  const runtime = shortTempDir(t);
  const dir = t.testdir({
    'user-data': '#cloud-config\nwrite_files:\n  - path: /etc/from-user-data\n    content: "arrived\\n"\n',
  });
  const result = await qlaunch(
    [
      'run',
      'debian-12-local',
      '--cpus',
      '2',
      '--accel',
      'tcg',
      '--user-data',
      join(dir, 'user-data'),
      '--timeout',
      '600',
      '--disk-size',
      '3G',
      '--',
      'sh',
      '-c',
      'cat /etc/from-user-data; hostname; df --output=size -BM / | tail -1; echo to-stderr >&2; exit 7',
    ],
    { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime },
  );
  t.equal(result.exitCode, 7, result.stderr);
  const [file, host, size] = result.stdout.split('\n');
  t.equal(file, 'arrived');
  t.equal(host, 'debian-12-local');
  t.ok(Number.parseInt(size ?? '', 10) > 2600, `the root filesystem grew into the 3G disk (${size})`);
  t.match(result.stderr, /qlaunch: ready after [\d.]+ s/);
  t.match(result.stderr, /to-stderr/);
  t.same(readdirSync(join(runtime, 'qlaunch')), [], 'overlay, seed, key and sockets are gone');
});

t.test('bad input fails clearly and leaves nothing', async (t) => {
  const home = await testHome();
  const runtime = shortTempDir(t);
  const env = { QLAUNCH_HOME: home, XDG_RUNTIME_DIR: runtime };
  const dir = t.testdir({ 'corrupt.qcow2': 'QFI\xfb garbage that is not an image' });
  writeFileSync(join(dir, 'blank.img'), Buffer.alloc(1024 * 1024));

  const unknown = await qlaunch(['run', 'debian-12-locl', '--', 'true'], env);
  t.equal(unknown.exitCode, 1);
  t.match(unknown.stderr, /no machine template 'debian-12-locl'[\s\S]*did you mean 'debian-12-local'/);

  const corrupt = await qlaunch(['run', join(dir, 'corrupt.qcow2'), '--', 'true'], env);
  t.equal(corrupt.exitCode, 1);
  t.match(corrupt.stderr, /corrupt\.qcow2/);

  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const taken = await qlaunch(
    ['run', 'debian-12-local', '--accel', 'tcg', '--port', `${port}:80`, '--', 'true'],
    env,
  );
  t.equal(taken.exitCode, 1);
  t.match(taken.stderr, new RegExp(`${port}`), 'the busy port is named');

  const never = await qlaunch(
    ['run', join(dir, 'blank.img'), '--accel', 'tcg', '--timeout', '15', '--', 'true'],
    env,
  );
  t.equal(never.exitCode, 1);
  t.match(never.stderr, /within|timed out|did not/i, 'a clear timeout');
  t.same(readdirSync(join(runtime, 'qlaunch')), [], 'nothing left behind by any of them');
  const qemu = await execa('pgrep', ['-f', `${runtime}`], { reject: false });
  t.equal(qemu.stdout, '', 'no QEMU left');
});
