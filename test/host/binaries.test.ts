import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCHES } from '../../lib/arch/table.js';
import { isQlaunchError } from '../../lib/errors.js';
import {
  findExecutable,
  findQemu,
  findQemuImg,
  queryQemu,
  requireQemu,
  requireQemuImg,
} from '../../lib/host/binaries.js';

/** A fake tool: a shell script that prints `stdout` and exits with `status`. */
async function fakeTool(dir: string, name: string, stdout: string, status = 0): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\nprintf '%s\\n' '${stdout}'\necho oops >&2\nexit ${status}\n`);
  await chmod(path, 0o755);
  return path;
}

t.test(
  'findExecutable walks PATH in order, skipping non-executables, dirs and relative entries',
  async (t) => {
    const root = t.testdir({ a: {}, b: {}, c: {} });
    const [a, b, c] = ['a', 'b', 'c'].map((d) => join(root, d)) as [string, string, string];
    await writeFile(join(a, 'tool'), 'not executable', { mode: 0o644 });
    await mkdir(join(b, 'tool'));
    await fakeTool(c, 'tool', 'hi');
    t.equal(await findExecutable('tool', ['relative', '', a, b, c].join(':')), join(c, 'tool'));
    t.equal(await findExecutable('tool', [a, b].join(':')), undefined);
    t.equal(await findExecutable('tool', undefined), undefined);
  },
);

t.test('findQemu and findQemuImg parse the version of what PATH holds', async (t) => {
  const dir = t.testdir();
  const banner = 'QEMU emulator version 9.1.2 (v9.1.2-dirty)';
  const path = await fakeTool(dir, 'qemu-system-aarch64', banner);
  await fakeTool(dir, 'qemu-img', 'qemu-img version 9.1.2');
  const env = { PATH: dir };
  t.same(await findQemu('aarch64', { env }), {
    arch: 'aarch64',
    path,
    version: '9.1.2',
    major: 9,
    minor: 1,
    micro: 2,
    banner,
  });
  t.equal(await findQemu('x86_64', { env }), undefined);
  t.match(await findQemuImg({ env }), { path: join(dir, 'qemu-img'), version: '9.1.2' });
  t.match(await requireQemuImg({ env }), { version: '9.1.2' });
});

t.test('a PATH without qemu: HOST_QEMU_MISSING naming the Debian package', async (t) => {
  const env = { PATH: t.testdir() };
  for (const [arch, pkg] of [
    ['aarch64', 'qemu-system-arm'],
    ['x86_64', 'qemu-system-x86'],
    ['riscv64', 'qemu-system-misc'],
  ] as const) {
    const error = await requireQemu(arch, { env }).catch((e: unknown) => e);
    t.ok(isQlaunchError(error, 'HOST_QEMU_MISSING'), arch);
    t.match(error, { message: /qemu-system-/, hint: `install it: apt-get install ${pkg}` });
  }
  const error = await requireQemuImg({ env }).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, 'HOST_TOOL_MISSING'));
  t.match(error, { hint: 'install it: apt-get install qemu-utils' });
  t.equal(await findQemuImg({ env }), undefined);
});

t.test('a binary that fails or prints no version is an error naming it', async (t) => {
  const dir = t.testdir();
  const failing = await fakeTool(dir, 'qemu-system-x86_64', 'QEMU emulator version 7.2.0', 1);
  const error = await queryQemu('x86_64', failing).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, 'HOST_QEMU_MISSING'));
  t.match(error, { message: `${failing} -version did not report a version: oops`, hint: /qemu-system-x86/ });
  const silent = await fakeTool(dir, 'qemu-img', 'hello');
  t.match(await findQemuImg({ env: { PATH: dir } }).catch((e: unknown) => e), {
    code: 'HOST_TOOL_MISSING',
    message: `${silent} --version did not report a version: oops`,
  });
});

t.test('the real PATH: every installed qemu-system binary reports a version', async (t) => {
  const found = await Promise.all(ARCHES.map((arch) => findQemu(arch)));
  for (const binary of found.filter((b) => b !== undefined)) {
    t.match(binary, { path: new RegExp(`/qemu-system-${binary.arch}$`), version: /^\d+\.\d+\.\d+$/ });
    t.match(binary.banner, /^QEMU emulator version /);
  }
});
