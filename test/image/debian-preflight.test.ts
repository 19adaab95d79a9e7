import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ARCH_TABLE, hostArch } from '../../lib/arch/table.js';
import {
  type BuildHostFacts,
  chooseBuildMode,
  findOnPath,
  probeBuildHost,
  subordinateIdCount,
} from '../../lib/image/debian-preflight.js';

const allTools = Object.fromEntries(
  ['mmdebstrap', 'mkfs.ext4', 'qemu-img', 'unshare', 'fakeroot', 'tar', 'newuidmap', 'newgidmap', 'arch-test']
    .concat(['qemu-aarch64-static', 'qemu-x86_64-static'])
    .map((name) => [name, `/usr/bin/${name}`]),
);

const host = (over: Partial<BuildHostFacts> = {}, without: string[] = []): BuildHostFacts => ({
  uid: 0,
  tools: Object.fromEntries(Object.entries(allTools).filter(([name]) => !without.includes(name))),
  mergedUsrHooks: true,
  subuids: 65536,
  subgids: 65536,
  userns: true,
  hostDebianArch: 'amd64',
  binfmtMounted: true,
  binfmtRegistered: true,
  ...over,
});

t.test('root builds in root mode, others in unshare mode, and a forced mode is honoured', async (t) => {
  t.equal(chooseBuildMode(host(), 'x86_64'), 'root');
  t.equal(chooseBuildMode(host({ uid: 1000 }), 'x86_64'), 'unshare');
  t.equal(chooseBuildMode(host(), 'x86_64', 'unshare'), 'unshare');
  // Root needs neither subuids nor newuidmap for unshare mode.
  t.equal(
    chooseBuildMode(host({ subuids: 0, userns: false }, ['newuidmap']), 'x86_64', 'unshare'),
    'unshare',
  );
  t.throws(() => chooseBuildMode(host({ uid: 1000 }), 'x86_64', 'root'), { code: 'HOST_PRIVILEGE_MISSING' });
});

t.test('a missing tool is named with the package that has it', async (t) => {
  const cases: [string, string, BuildHostFacts['uid']][] = [
    ['mmdebstrap', 'apt-get install mmdebstrap', 0],
    ['mkfs.ext4', 'apt-get install e2fsprogs', 0],
    ['qemu-img', 'apt-get install qemu-utils', 0],
    ['unshare', 'apt-get install util-linux', 0],
    ['fakeroot', 'apt-get install fakeroot', 1000],
    ['tar', 'apt-get install tar', 1000],
  ];
  for (const [tool, hint, uid] of cases) {
    t.throws(() => chooseBuildMode(host({ uid }, [tool]), 'x86_64'), {
      code: 'HOST_TOOL_MISSING',
      message: new RegExp(`^${tool.replace('.', '\\.')} is not installed`),
      hint,
    });
  }
  t.throws(() => chooseBuildMode(host({ mergedUsrHooks: false }), 'x86_64'), {
    code: 'HOST_TOOL_MISSING',
    message: /merged-usr/,
  });
});

t.test('without root, what stops unshare mode is said', async (t) => {
  const user = { uid: 1000 };
  t.throws(() => chooseBuildMode(host(user, ['newgidmap']), 'x86_64'), {
    code: 'HOST_PRIVILEGE_MISSING',
    hint: /apt-get install uidmap/,
  });
  t.throws(() => chooseBuildMode(host({ ...user, subuids: 0 }), 'x86_64'), {
    code: 'HOST_PRIVILEGE_MISSING',
    message: /subordinate uids/,
    hint: /usermod --add-subuids/,
  });
  t.throws(() => chooseBuildMode(host({ ...user, subgids: 1000 }), 'x86_64'), {
    code: 'HOST_PRIVILEGE_MISSING',
  });
  t.throws(() => chooseBuildMode(host({ ...user, userns: false }), 'x86_64'), {
    code: 'HOST_PRIVILEGE_MISSING',
    message: /user namespaces/,
  });
});

t.test(
  'a foreign architecture needs qemu-user-static, arch-test and a registered binfmt handler',
  async (t) => {
    t.equal(chooseBuildMode(host(), 'aarch64'), 'root', 'all there');
    t.equal(
      chooseBuildMode(
        host({ hostDebianArch: 'arm64', binfmtMounted: false }, ['qemu-aarch64-static']),
        'aarch64',
      ),
      'root',
      'native',
    );
    t.throws(() => chooseBuildMode(host({}, ['qemu-aarch64-static']), 'aarch64'), {
      code: 'HOST_TOOL_MISSING',
      message: /qemu-aarch64-static is not installed \(building arm64 on this amd64 host/,
      hint: 'apt-get install qemu-user-static binfmt-support arch-test',
    });
    t.throws(() => chooseBuildMode(host({}, ['arch-test']), 'aarch64'), {
      code: 'HOST_TOOL_MISSING',
      hint: /arch-test/,
    });
    // A container without systemd: the packages are in, but nothing mounted binfmt_misc or enabled the handler.
    t.throws(() => chooseBuildMode(host({ binfmtMounted: false, binfmtRegistered: false }), 'aarch64'), {
      code: 'HOST_EMULATION_UNAVAILABLE',
      message: /^binfmt_misc is not mounted: building arm64 on this amd64 host/,
      hint: 'as root: update-binfmts --enable qemu-aarch64 (mounts it too), or mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc',
    });
    t.throws(() => chooseBuildMode(host({ binfmtRegistered: false }), 'aarch64'), {
      code: 'HOST_EMULATION_UNAVAILABLE',
      message: /^no enabled binfmt_misc handler qemu-aarch64: building arm64/,
      hint: 'as root: apt-get install qemu-user-static binfmt-support arch-test, then update-binfmts --enable qemu-aarch64',
    });
    t.throws(
      () => chooseBuildMode(host({ uid: 1000, binfmtRegistered: false }), 'aarch64'),
      {
        code: 'HOST_EMULATION_UNAVAILABLE',
        message: /qemu-aarch64/,
      },
      'unshare mode needs the handler just the same',
    );
    t.throws(() => chooseBuildMode(host({ hostDebianArch: 'arm64' }, ['qemu-x86_64-static']), 'x86_64'), {
      code: 'HOST_TOOL_MISSING',
    });
  },
);

t.test('subordinate ids by name or uid, ranges added up', async (t) => {
  const text = 'alice:100000:65536\n1000:300000:1000\nbob:165536:65536\n# comment\nbroken line\n';
  t.equal(subordinateIdCount(text, 'alice', 1000), 66536);
  t.equal(subordinateIdCount(text, 'bob', 1001), 65536);
  t.equal(subordinateIdCount(text, 'carol', 1002), 0);
  t.equal(subordinateIdCount('', 'alice', 1000), 0);
});

t.test('findOnPath finds executables only', async (t) => {
  const dir = t.testdir({ tool: '#!/bin/sh\n', data: 'x' });
  await chmod(join(dir, 'tool'), 0o755);
  await writeFile(join(dir, 'data'), 'x');
  t.equal(findOnPath('tool', `/nonexistent::${dir}`), join(dir, 'tool'));
  t.equal(findOnPath('missing', dir), undefined);
  if (process.getuid?.() !== 0) t.equal(findOnPath('data', dir), undefined, 'not executable');
});

t.test('probing this host gives facts consistent with the process', async (t) => {
  const facts = await probeBuildHost('aarch64');
  t.equal(facts.uid, process.getuid?.());
  const arch = hostArch();
  t.equal(facts.hostDebianArch, arch ? ARCH_TABLE[arch].debianArch : undefined);
  for (const [name, path] of Object.entries(facts.tools)) {
    if (path !== undefined) t.match(path, new RegExp(`/${name.replace(/[.+]/g, '\\$&')}$`), name);
  }
  if (facts.uid === 0) t.same([facts.subuids, facts.userns], [0, false], 'root is not probed for namespaces');
  if (!facts.binfmtMounted) t.notOk(facts.binfmtRegistered);
});
