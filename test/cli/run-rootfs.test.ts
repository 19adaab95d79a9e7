// `qlaunch run --kernel K --rootfs DIR -- COMMAND`: the command's output is stdout, its exit status qlaunch's;
// what cannot work says so and how to fix it.

import { execa } from 'execa';
import t from 'tap';
import { cliPath, rootfsGuest, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(600_000);

const qlaunch = (args: string[], env: Record<string, string>) =>
  execa(process.execPath, [cliPath, ...args], { reject: false, env, stdin: 'ignore' });

t.test("a command on the host's / : its output and its exit status", async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const env = { XDG_RUNTIME_DIR: shortTempDir(t) };
  const result = await qlaunch(
    [
      'run',
      '--kernel',
      rootfs.kernel,
      '--rootfs',
      rootfs.rootfs,
      '--modules',
      rootfs.modulesDir ?? '',
      '--memory',
      '512M',
      '--accel',
      'tcg',
      '--',
      'sh',
      '-c',
      'uname -r; echo "$0 $1"; exit 42',
      'two words',
      "it's",
    ],
    env,
  );
  t.equal(result.exitCode, 42, result.stderr);
  t.equal(result.stdout, `${rootfs.release}\ntwo words it's`);
  t.match(result.stderr, /rootfs \/ over 9p/);
});

t.test('what cannot work is refused, naming the fix', async (t) => {
  const rootfs = await rootfsGuest('x86_64');
  const env = { XDG_RUNTIME_DIR: shortTempDir(t) };
  const noRootfs = await qlaunch(['run', '--kernel', rootfs.kernel, '--', 'true'], env);
  t.equal(noRootfs.exitCode, 2);
  t.match(noRootfs.stderr, /-- COMMAND with --kernel needs --rootfs/);
  t.match(noRootfs.stderr, /--rootfs \//);
  const noCommand = await qlaunch(['run', '--kernel', rootfs.kernel, '--rootfs', '/'], env);
  t.equal(noCommand.exitCode, 2);
  t.match(noCommand.stderr, /--rootfs needs the command to run, after --/);
  const noModules = await qlaunch(['run', '--kernel', rootfs.kernel, '--rootfs', '/', '--', 'true'], env);
  t.not(noModules.exitCode, 0);
  t.match(noModules.stderr, new RegExp(`/ has no modules for it \\(lib/modules/${rootfs.release}\\)`));
  t.match(noModules.stderr, /--modules DIR/);
});
