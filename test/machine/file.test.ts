import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { builtImageName, loadMachineFile, parseMachineText } from '../../lib/machine/file.js';

const machinesDir = fileURLToPath(new URL('../../machines/', import.meta.url));
const templates = readdirSync(machinesDir).filter((name) => name.endsWith('.yaml'));

/** The error parseMachineText throws for `text`, for matching on code, message and hint. */
const failure = (
  text: string,
  source = 'machines/x.yaml',
): { code?: string; message: string; hint?: string } => {
  try {
    parseMachineText(text, source);
  } catch (error) {
    return error as { code: string; message: string; hint?: string };
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
};

t.test('every shipped template is a valid machine file named after its file', async (t) => {
  t.ok(templates.length >= 5, `templates: ${templates.join(', ')}`);
  for (const file of templates) {
    const def = await loadMachineFile(join(machinesDir, file));
    t.equal(def.name, file.replace(/\.yaml$/, ''), file);
    t.ok(def.sshUser, `${file} names its default user`);
    t.equal(def.readiness, 'cloud-init', file);
    for (const image of Object.values(def.images)) {
      if (image.kind === 'url')
        t.ok(image.checksum ?? image.checksumUrl, `${file}: ${image.url} is verified`);
    }
  }
});

t.test('a full file: sizes, ports and paths come out parsed and resolved', async (t) => {
  const def = parseMachineText(
    [
      'name: web',
      'description: a web server',
      'arch: aarch64',
      'cpus: 4',
      'memory: 1.5G',
      'disk: { size: 20G }',
      'image:',
      '  url: https://example.org/disk.qcow2',
      `  checksum: sha256:${'ab'.repeat(32)}`,
      'firmware: ./edk2.fd',
      'ports:',
      '  - 8080:80', // unquoted: YAML 1.2 reads it as text, not a base-60 number
      '  - "127.0.0.1:5353:53/udp"',
      'userData: seeds/user-data.yaml',
      'ssh: { user: admin }',
      'readiness: { serial: "login:" }',
    ].join('\n'),
    '/srv/vms/web.yaml',
  );
  t.match(def, {
    name: 'web',
    description: 'a web server',
    source: '/srv/vms/web.yaml',
    arch: 'aarch64',
    cpus: 4,
    memoryMiB: 1536,
    diskSizeMiB: 20 * 1024,
    image: { kind: 'url', url: 'https://example.org/disk.qcow2', checksum: `sha256:${'ab'.repeat(32)}` },
    firmware: { path: '/srv/vms/edk2.fd' },
    userData: { kind: 'file', path: '/srv/vms/seeds/user-data.yaml' },
    sshUser: 'admin',
    readiness: { serial: 'login:' },
  });
  t.same(def.ports, [
    { protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: 8080, guestPort: 80 },
    { protocol: 'udp', hostAddress: '127.0.0.1', hostPort: 5353, guestPort: 53 },
  ]);
});

t.test('the image forms, per-arch images and their firmware', async (t) => {
  const def = parseMachineText(
    [
      'image: { name: my-base }',
      'images:',
      '  x86_64: { path: ../disks/x.qcow2, firmware: bios }',
      '  aarch64: { build: debian-12 }',
      '  riscv64: { url: "https://e.org/r.img", checksumUrl: "https://e.org/SHA256SUMS" }',
    ].join('\n'),
    'vm/multi.yaml',
  );
  t.equal(def.name, 'multi', 'the name defaults to the file name');
  t.same(def.image, { kind: 'stored', name: 'my-base' });
  t.same(def.images.x86_64, { kind: 'file', path: 'disks/x.qcow2', firmware: 'bios' });
  t.same(def.images.aarch64, { kind: 'build', recipe: 'debian-12', name: builtImageName('debian-12') });
  t.equal(builtImageName('debian-12'), 'debian-12-local');
  t.same(def.images.riscv64, {
    kind: 'url',
    url: 'https://e.org/r.img',
    checksum: undefined,
    checksumUrl: 'https://e.org/SHA256SUMS',
  });
});

t.test('JSON is a machine file too, and userData may be written inline', async (t) => {
  const def = parseMachineText(
    JSON.stringify({
      name: 'j',
      kernel: 'vmlinuz',
      initrd: 'initrd.img',
      append: 'quiet',
      userData: { packages: ['curl'] },
    }),
    'j.json',
    '/base',
  );
  t.match(def, {
    name: 'j',
    kernel: '/base/vmlinuz',
    initrd: '/base/initrd.img',
    append: 'quiet',
    userData: { kind: 'inline', cloudConfig: { packages: ['curl'] } },
  });
  t.equal(def.image, undefined);
  t.same(def.ports, []);
});

t.test('bad YAML is reported with its line and column', async (t) => {
  const error = failure('name: x\nimage: { name: a }\nmemory: 2G\n  cpus: 2\n');
  t.equal(error.code, 'MACHINE_INVALID');
  t.match(error.message, /^machines\/x\.yaml: line 3, column \d+: invalid YAML: /);
  t.match(error.hint, /indent/);
  t.match(failure('name: a\nname: b\n').message, /line 2, column 1: invalid YAML: Map keys must be unique/);
  t.match(failure('image: *nowhere\n').message, /invalid YAML: .*alias/i);
  t.match(failure('').message, 'machines/x.yaml: is empty');
  t.match(failure('- a\n- b\n').message, 'should be a mapping, not a list');
});

t.test("YAML mistakes: one position, our words for yaml's, and a fix that says what to change", async (t) => {
  const deepFlow = `image: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
  const deepBlock = `x:\n${Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')} 1\n`;
  const nine = (item: string) => `[${Array(9).fill(item).join(', ')}]`;
  const bomb = `a: &a ${nine('x')}\nb: &b ${nine('*a')}\nc: &c ${nine('*b')}\nd: ${nine('*c')}\n`;
  const cases: [string, string, RegExp | string, RegExp | string][] = [
    [
      'a second document',
      'image: { name: a }\n---\nimage: { name: b }\n',
      'line 2, column 1: invalid YAML: a second YAML document starts here (after --- or ...)',
      /a machine file is one document: remove the --- or \.\.\. line/,
    ],
    ['a tab', 'image:\n\tname: a\n', 'line 2, column 1: invalid YAML: Tabs', /indent with spaces/],
    [
      'a field out of line',
      'image:\n  name: a\n bad: x\n',
      'line 3, column 1: invalid YAML: All mapping items must start at the same column',
      /by the same number of spaces/,
    ],
    [
      'a field twice',
      'name: a\nname: b\n',
      'line 2, column 1: invalid YAML: Map keys',
      /write each field once/,
    ],
    [
      'deep brackets',
      deepFlow,
      'line 1: is nested more than 64 mappings or lists deep',
      /unclosed brackets or runaway indentation/,
    ],
    [
      'deep indentation',
      deepBlock,
      'line 65: is nested more than 64 mappings or lists deep',
      /unclosed brackets or runaway indentation/,
    ],
    [
      'an alias with no anchor',
      'image: *base\n',
      'invalid YAML: the alias *base names no anchor set before it',
      'set &base on a value above this alias, or write the value out in place of *base',
    ],
    [
      'aliases that multiply',
      `${bomb}image: { name: a }\n`,
      'invalid YAML: its aliases (*NAME) expand to more than 100 copies',
      /write the values out instead of repeating them through anchors and aliases/,
    ],
    [
      'an unknown arch',
      'image: { name: a }\narch: sparc\n',
      "arch (line 2): 'sparc' is not one of x86_64, aarch64, riscv64",
      "write one of x86_64, aarch64, riscv64, or leave arch out for the host's",
    ],
    [
      'a bad size',
      'image: { name: a }\nmemory: lots\n',
      "memory (line 2): 'lots' is not a size qlaunch understands",
      /^write a size such as 512M or 2G/,
    ],
    [
      'text for a number',
      'image: { name: a }\ncpus: many\n',
      "cpus (line 2): should be a number, not 'many'",
      'write a whole number from 1 to 255, e.g. cpus: 2',
    ],
    [
      'a readiness that is none of its forms',
      'image: { name: a }\nreadiness: 5\n',
      'readiness (line 2): 5 is not one of cloud-init, ssh',
      'write cloud-init, ssh, or { serial: TEXT }',
    ],
    [
      'a bad port',
      'image: { name: a }\nports: [x]\n',
      'ports[0] (line 2): \'x\' is not a "HOST:GUEST" port forward',
      /^write "HOST:GUEST" in quotes, e.g. "8080:80"/,
    ],
  ];
  for (const [what, text, message, hint] of cases) {
    const error = failure(text);
    t.equal(error.code, 'MACHINE_INVALID', what);
    t.match(error.message, message, `${what}: message`);
    t.match(error.hint, hint, `${what}: hint`);
    t.equal(
      error.message.match(/line \d+/g)?.length ?? 0,
      typeof message === 'string' && /line \d/.test(message) ? 1 : 0,
      `${what}: one position`,
    );
    t.notMatch(
      error.message,
      /parseAllDocuments|call stack|resource exhaustion/i,
      `${what}: no yaml internals`,
    );
    // A description says what a field is; the fix must say what to write.
    t.notMatch(
      error.hint,
      /^(The|Guest|Virtual|A port|When the guest)\b/,
      `${what}: a fix, not a description`,
    );
  }
});

t.test('wrong values name the field, its line and the fix', async (t) => {
  const memory = failure('image: { name: a }\ncpus: 2\nmemory: 12parsecs\n');
  t.equal(memory.code, 'MACHINE_INVALID');
  t.equal(memory.message, "machines/x.yaml: memory (line 3): '12parsecs' is not a size qlaunch understands");
  t.match(memory.hint, /512M or 2G/);
  t.match(
    failure('image: { name: a }\nmemory: 1.3M\n').message,
    "memory (line 2): '1.3M' is not a whole number of MiB",
  );
  t.match(
    failure('image: { name: a }\nmemory: true\n').message,
    'memory (line 2): should be text or a number, not true',
  );
  t.match(
    failure('image: { name: a }\ndisk:\n  size: 0\n').message,
    'disk.size (line 3): 0 is not a positive number',
  );
  t.match(failure('image: { name: a }\ndisk: {}\n'), {
    message: 'disk.size (line 2): is missing',
    hint: /10G/,
  });
  t.match(
    failure('image: { name: a }\ncpus: 2.5\n').message,
    'cpus (line 2): should be a whole number, not 2.5',
  );
  t.match(
    failure('image: { name: a }\ncpus: 0\n').message,
    'cpus (line 2): 0 is not a whole number from 1 to 255',
  );
  t.match(failure('image: { name: a }\narch: sparc64\n'), {
    message: "arch (line 2): 'sparc64' is not one of x86_64, aarch64, riscv64",
  });
  t.match(failure('image: { name: a }\nreadiness: cloudinit\n'), { hint: "did you mean 'cloud-init'?" });
  t.match(failure('image:\n  build: debian-14\n'), {
    message: "image.build (line 2): 'debian-14' is not one of debian-12, debian-13",
    hint: "did you mean 'debian-12' or 'debian-13'?",
  });
  t.match(failure('image: debian\n'), {
    message: "image (line 1): should be a mapping, not 'debian'",
    hint: /url:/,
  });
  t.match(failure('image: { name: Debian }\n').message, "image.name (line 1): 'Debian' is not an image name");
  t.match(
    failure('name: My VM\nimage: { name: a }\n').message,
    "name (line 1): 'My VM' is not a machine name",
  );
  t.match(failure('image: { name: a }\n', 'vms/My VM.yaml'), {
    message: "vms/My VM.yaml: name: is missing, and the file name 'My VM' is not a machine name",
    hint: /add name: NAME/,
  });
  t.match(
    failure('userData: 5\nimage: { name: a }\n').message,
    'userData (line 1): should be text or a mapping, not 5',
  );
  t.match(failure('image: { name: a }\nuserData: "#cloud-config\\npackages: [curl]\\n"\n'), {
    message: "userData (line 2): '#cloud-config…' is several lines, not a file name",
    hint: /YAML mapping under userData/,
  });
});

t.test('images: one form at a time, downloads verified', async (t) => {
  const both = failure('image:\n  name: a\n  url: https://e.org/x\n');
  t.match(both, {
    message: 'image (line 1): has name, url, which is none of the forms it can take',
    hint: /name:.*url:.*build:/,
  });
  t.match(failure('image:\n  nmae: a\n').message, 'image (line 1): has nmae, which is none of the forms');
  t.match(
    failure('image: { url: "ftp://e.org/x", checksum: "sha256:00" }\n').message,
    /image\.url \(line 1\): 'ftp:\/\/e\.org\/x' is not an http:\/\/ or https:\/\/ URL/,
  );
  t.match(failure('image: { url: "https://e.org/x", checksum: "md5:00" }\n'), {
    message: "image.checksum (line 1): 'md5:00' is not sha256:HEX or sha512:HEX",
    hint: /digest/,
  });
  t.match(failure('image: { url: "https://e.org/x" }\n'), {
    message: 'image (line 1): has no checksum',
    hint: /checksumUrl/,
  });
  t.match(
    failure(
      `image: { url: "https://e.org/x", checksum: "sha256:${'0'.repeat(64)}", checksumUrl: "https://e.org/S" }\n`,
    ),
    {
      message: 'has both checksum and checksumUrl',
    },
  );
  t.match(failure('images:\n  amd64: { name: a }\n'), {
    message: /images\.amd64 \(line 2\): is not a field qlaunch knows/,
  });
  t.match(failure('images:\n  riscv64:\n    build: debian-12\n'), {
    message: "images.riscv64.build (line 3): 'debian-12' cannot be built for riscv64",
    hint: 'debian-12 is built for x86_64, aarch64',
  });
  t.match(failure('images: {}\n').message, 'images (line 1): lists no architecture');
});

t.test('unknown keys are refused by name, with the nearest known one', async (t) => {
  const error = failure('image: { name: a }\nmemroy: 2G\n');
  t.equal(error.message, 'machines/x.yaml: memroy (line 2): is not a field qlaunch knows');
  t.equal(error.hint, "did you mean 'memory'?");
  t.match(
    failure('image: { name: a }\nssh: { usr: debian }\n').message,
    /ssh\.usr \(line 2\): is not a field qlaunch knows.*did you mean 'user'/s,
  );
  t.match(failure('image: { name: a }\nflavour: large\n'), {
    hint: /the fields here are: name, description, arch, cpus/,
  });
});

t.test('ports are checked one by one', async (t) => {
  const error = failure('image: { name: a }\nports:\n  - "2222:22"\n  - 22\n  - "99999:80"\n');
  t.match(error.message, /^machines\/x\.yaml: 2 problems\n/);
  t.match(error.message, 'ports[1] (line 4): should be text, not 22');
  t.match(error.message, `ports[2] (line 5): '99999:80' is not a "HOST:GUEST" port forward`);
  t.match(error.hint, /8080:80/);
});

t.test('fields that need each other', async (t) => {
  t.match(failure('name: x\n'), { message: 'machines/x.yaml: there is nothing to boot', hint: /image:/ });
  t.match(failure('image: { name: a }\ninitrd: initrd.img\n'), {
    message: "initrd (line 2): 'initrd.img' is given without a kernel",
    hint: 'add kernel: FILE, or drop initrd',
  });
  t.match(
    failure('image: { name: a }\nappend: quiet\n').message,
    "append (line 2): 'quiet' is given without a kernel",
  );
  t.doesNotThrow(
    () => parseMachineText('image: { build: debian-12 }\nappend: quiet\n', 'b.yaml'),
    'a built image has a kernel',
  );
  t.match(failure('arch: riscv64\nimages:\n  x86_64: { name: a }\n'), {
    message: "arch (line 1): 'riscv64' has no image in images (it has x86_64)",
    hint: 'add images.riscv64, or drop arch',
  });
});

t.test('loadMachineFile resolves paths against the file and checks they exist', async (t) => {
  const dir = t.testdir({
    vms: {
      'dev.yaml': 'image: { name: base }\nuserData: ./seed/user-data\nkernel: ../boot/vmlinuz\n',
      seed: { 'user-data': '#cloud-config\n' },
      'broken.yaml': 'image: { name: base }\ncpus: 1\nuserData: nowhere.yaml\n',
    },
    boot: { vmlinuz: 'kernel' },
  });
  const def = await loadMachineFile(join(dir, 'vms/dev.yaml'));
  t.same(def.userData, { kind: 'file', path: join(dir, 'vms/seed/user-data') });
  t.equal(def.kernel, join(dir, 'boot/vmlinuz'));
  t.equal(def.name, 'dev');
  await t.rejects(loadMachineFile(join(dir, 'vms/broken.yaml')), {
    code: 'SPEC_FILE_MISSING',
    message: `${join(dir, 'vms/broken.yaml')}: userData (line 3): ${join(dir, 'vms/nowhere.yaml')} is not a file`,
    hint: /relative to the machine file's directory/,
  });
  await t.rejects(loadMachineFile(join(dir, 'vms/absent.yaml')), {
    code: 'SPEC_FILE_MISSING',
    message: /machine file .*absent\.yaml does not exist/,
  });
  await t.rejects(loadMachineFile(join(dir, 'vms')), {
    code: 'MACHINE_INVALID',
    message: /cannot read machine file/,
  });
});

t.test(
  'a machine file over 1 MiB is refused before it is parsed, naming the file and the limit',
  async (t) => {
    const dir = t.testdir({
      'big.yaml': `image: { name: a }\ndescription: ${'x'.repeat(20 * 1024 * 1024)}\n`,
    });
    await t.rejects(loadMachineFile(join(dir, 'big.yaml')), {
      code: 'MACHINE_INVALID',
      message: `machine file ${join(dir, 'big.yaml')} is 20.0 MiB, over the limit of 1 MiB`,
      hint: /put large content \(user-data, scripts\) in files it names/,
    });
    // A device has no size to look at first: it is read only up to the limit.
    await t.rejects(loadMachineFile('/dev/zero'), {
      code: 'MACHINE_INVALID',
      message: 'machine file /dev/zero is larger than the limit of 1 MiB',
    });
  },
);
