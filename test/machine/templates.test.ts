import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { resolveMachine } from '../../lib/machine/resolve.js';
import { findTemplate, listTemplates, templatesDir } from '../../lib/machine/templates.js';
import { shortTempDir } from '../fixtures/guests.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

t.test('the templates directory is found from lib/ and from dist/lib/', async (t) => {
  t.equal(templatesDir(), join(root, 'machines'));
  t.equal(templatesDir(join(root, 'dist/lib/machine/templates.js')), join(root, 'machines'));
  // t.testdir() is inside this repository, whose machines/ would be found: use a directory outside it.
  const outside = shortTempDir(t);
  t.throws(() => templatesDir(join(outside, 'a/b.js')), {
    code: 'MACHINE_UNKNOWN',
    message: /no machines\/ directory/,
  });
});

t.test('listTemplates: the shipped images, with their architectures', async (t) => {
  const list = await listTemplates();
  const byName = Object.fromEntries(list.map((template) => [template.name, template]));
  t.same(Object.keys(byName), [
    'alpine',
    'debian-12',
    'debian-12-local',
    'debian-13',
    'debian-13-local',
    'fedora',
    'ubuntu-24.04',
  ]);
  t.same(byName['debian-12']?.arches, ['x86_64', 'aarch64']);
  t.same(byName['debian-12-local']?.arches, ['x86_64', 'aarch64']);
  t.same(byName['debian-13']?.arches, ['x86_64', 'aarch64']);
  t.same(byName['debian-13-local']?.arches, ['x86_64', 'aarch64', 'riscv64']);
  t.same(byName['ubuntu-24.04']?.arches, ['x86_64', 'aarch64', 'riscv64']);
  t.same(byName['fedora']?.arches, ['x86_64', 'aarch64', 'riscv64']);
  t.same(byName['alpine']?.arches, ['x86_64', 'aarch64']);
  for (const template of list) {
    t.ok(template.description, `${template.name} says what it is`);
    t.equal(template.path, join(root, 'machines', `${template.name}.yaml`));
  }
});

t.test('findTemplate and the image each arch gets', async (t) => {
  const debian = await findTemplate('debian-12');
  const images = Object.fromEntries(
    (['x86_64', 'aarch64'] as const).map((arch) => [arch, resolveMachine(debian, { arch }).image]),
  );
  t.match(images, {
    x86_64: {
      kind: 'url',
      url: /debian-12-genericcloud-amd64\.qcow2$/,
      checksumUrl: /bookworm\/latest\/SHA512SUMS$/,
    },
    aarch64: { kind: 'url', url: /debian-12-genericcloud-arm64\.qcow2$/, firmware: 'uefi' },
  });
  const ubuntu = resolveMachine(await findTemplate('ubuntu-24.04'), { arch: 'riscv64' });
  t.match(ubuntu, { sshUser: 'ubuntu', image: { url: /noble-server-cloudimg-riscv64\.img$/ } });
  const alpine = await findTemplate('alpine');
  t.match(resolveMachine(alpine, { arch: 'x86_64' }), {
    firmware: 'bios',
    image: { url: /x86_64-bios-cloudinit/ },
  });
  t.match(resolveMachine(alpine, { arch: 'aarch64' }), {
    firmware: 'uefi',
    image: { url: /aarch64-uefi-cloudinit/ },
  });
  const local = resolveMachine(await findTemplate('debian-12-local', { arch: 'aarch64' }), {
    arch: 'aarch64',
  });
  t.match(local, {
    image: { kind: 'build', recipe: 'debian-12', name: 'debian-12-local' },
    sshUser: 'debian',
  });
});

t.test('an arch a template lacks is a clear error', async (t) => {
  await t.rejects(findTemplate('debian-12', { arch: 'riscv64' }), {
    code: 'SPEC_ARCH_UNSUPPORTED',
    message: /machine 'debian-12' \(.*machines\/debian-12\.yaml\) has no image for riscv64/,
    hint: /it has x86_64, aarch64/,
  });
  await t.rejects(findTemplate('alpine', { arch: 'mips' }), { code: 'SPEC_ARCH_UNSUPPORTED' });
});

t.test('an unknown name lists the templates and suggests a close one', async (t) => {
  await t.rejects(findTemplate('debain-12'), {
    code: 'MACHINE_UNKNOWN',
    message: "there is no machine template 'debain-12'",
    hint: /^did you mean 'debian-12' or 'debian-13'\? the templates are: alpine, debian-12, debian-12-local, debian-13, debian-13-local, fedora, ubuntu-24\.04/,
  });
  await t.rejects(findTemplate('ubuntu'), {
    code: 'MACHINE_UNKNOWN',
    hint: /did you mean 'ubuntu-24\.04'\?/,
  });
  await t.rejects(findTemplate('windows'), { code: 'MACHINE_UNKNOWN', hint: /^the templates are: alpine, / });
  await t.rejects(findTemplate('../package'), { code: 'MACHINE_UNKNOWN' }, 'only listed names are opened');
});

t.test('a template directory of your own', async (t) => {
  const dir = t.testdir({
    'tiny.yaml': 'description: a tiny guest\narch: x86_64\nkernel: vmlinuz\nreadiness: { serial: "ready" }\n',
    vmlinuz: 'not really a kernel',
    'wrong.yaml': 'name: right\nimage: { name: base }\n',
    'notes.txt': 'not a template',
  });
  await t.rejects(listTemplates({ dir }), {
    code: 'MACHINE_INVALID',
    message: /wrong\.yaml: name 'right' is not the file's name 'wrong'/,
    hint: 'a template is found by its file name: write name: wrong',
  });
  const tiny = await findTemplate('tiny', { dir });
  t.match(tiny, { name: 'tiny', kernel: join(dir, 'vmlinuz'), readiness: { serial: 'ready' } });
  const missing = join(dir, 'nothing-here');
  mkdirSync(join(dir, 'empty'));
  t.same(await listTemplates({ dir: join(dir, 'empty') }), []);
  await t.rejects(listTemplates({ dir: missing }), {
    code: 'MACHINE_UNKNOWN',
    message: /cannot read the templates/,
  });
});
