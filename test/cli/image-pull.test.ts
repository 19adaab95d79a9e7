import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { pullRequest } from '../../lib/cli/commands/image-pull.js';
import type { MachineDefinition } from '../../lib/machine/file.js';
import { cliPath } from '../fixtures/guests.js';
import { imageServer } from '../image/image-server.js';

t.test('pull sources: a URL as given, a template through the lookup, per-arch names', async (t) => {
  const def = (
    images: MachineDefinition['images'],
    image?: MachineDefinition['image'],
  ): MachineDefinition => ({
    name: 'distro',
    source: '/machines/distro.yaml',
    images,
    ...(image && { image }),
    ports: [],
  });
  const url = {
    kind: 'url' as const,
    url: 'https://x/distro-amd64.qcow2',
    checksumUrl: 'https://x/SHA256SUMS',
  };
  const arm = {
    kind: 'url' as const,
    url: 'https://x/distro-arm64.qcow2',
    checksum: `sha256:${'a'.repeat(64)}`,
  };
  const lookup = (d: MachineDefinition) => async (name: string) => ({ ...d, name });

  t.same(await pullRequest({ source: 'https://x/y/jammy.img?z' }), {
    url: 'https://x/y/jammy.img?z',
    name: 'jammy',
    checksum: undefined,
    checksumUrl: undefined,
    arch: undefined,
  });
  t.match(await pullRequest({ source: 'https://x/a.qcow2', name: 'mine', arch: 'aarch64', checksum: 'c' }), {
    name: 'mine',
    arch: 'aarch64',
    checksum: 'c',
  });
  const both = lookup(def({ x86_64: url, aarch64: arm }));
  t.same(await pullRequest({ source: 'distro', arch: 'x86_64' }, both), {
    url: url.url,
    name: 'distro',
    checksum: undefined,
    checksumUrl: url.checksumUrl,
    arch: 'x86_64',
  });
  t.match(await pullRequest({ source: 'distro', arch: 'aarch64' }, both), {
    url: arm.url,
    name: 'distro-aarch64',
    checksum: arm.checksum,
  });
  t.match(await pullRequest({ source: 'distro', arch: 'riscv64' }, lookup(def({}, url))), {
    name: 'distro-riscv64',
  });
  await t.rejects(pullRequest({ source: 'distro', arch: 'x86_64', checksum: 'sha256:x' }, both), {
    code: 'USAGE',
    message: "template 'distro' brings its own checksum",
  });
  await t.rejects(pullRequest({ source: 'distro', arch: 'riscv64' }, both), {
    code: 'SPEC_ARCH_UNSUPPORTED',
  });
  const notDownloadable: [MachineDefinition['image'], RegExp][] = [
    [{ kind: 'build', recipe: 'debian-12', name: 'debian-12-local' }, /qlaunch image build debian-12/],
    [{ kind: 'stored', name: 'mine' }, /stored image 'mine'/],
    [{ kind: 'file', path: '/d/disk.qcow2' }, /qlaunch image import \/d\/disk\.qcow2/],
    [undefined, /boots a kernel/],
  ];
  for (const [image, hint] of notDownloadable) {
    await t.rejects(
      pullRequest({ source: 'distro', arch: 'x86_64' }, lookup(def(image ? { x86_64: image } : {}))),
      {
        code: 'IMAGE_NOT_FOUND',
        message: "template 'distro' has no image to download for x86_64",
        hint,
      },
    );
  }
});

t.test('a malformed URL is refused by what is wrong with it, before a name is made from it', async (t) => {
  for (const [source, message] of [
    ['http://', /^'http:\/\/' is not a valid URL: it names no host$/],
    ['http://a b/x.qcow2', /it contains a space$/],
    ['http://[::1:18081/x', /the \[ of its IPv6 address is never closed/],
    ['ftp://mirror/x.qcow2', /qlaunch does not download over ftp:$/],
  ] as const) {
    await t.rejects(pullRequest({ source }), { code: 'IMAGE_DOWNLOAD_FAILED', message }, source);
  }
});

t.test('pull by a shipped template name reaches the template lookup', async (t) => {
  await t.rejects(pullRequest({ source: 'no-such-template' }), { message: /no-such-template/ });
});

t.test('image pull --stall-timeout: a server that stops sending fails after that many seconds', async (t) => {
  const body = Buffer.alloc(1024 * 1024, 0x5a);
  const server = await imageServer(t, { '/half.raw': { body, stallAfter: body.length / 2 } });
  const home = t.testdir();
  const pull = (...extra: string[]) =>
    execa(process.execPath, [cliPath, 'image', 'pull', server.url('/half.raw'), '--no-verify', ...extra], {
      reject: false,
      timeout: 60_000,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
  const stalled = await pull('--stall-timeout', '1.5');
  t.equal(stalled.exitCode, 1);
  t.match(
    stalled.stderr,
    `qlaunch: download of ${server.url('/half.raw')} stalled: nothing arrived for 1.5 s after ${body.length / 2} of ${body.length} bytes`,
  );
  t.match(stalled.stderr, /fix: .*--stall-timeout SECONDS/);
  t.notMatch(stalled.stderr, /unexpected error/);
  const images = join(home, 'images');
  t.same(existsSync(images) ? readdirSync(images) : [], [], 'nothing kept, no scratch left');
  const zero = await pull('--stall-timeout', '0');
  t.equal(zero.exitCode, 2, 'a usage error');
  t.match(zero.stderr, /--stall-timeout 0 is not a positive number of seconds/);
});
