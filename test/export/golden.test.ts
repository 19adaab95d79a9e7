// The templates in machines/ exported to both targets: golden files (QLAUNCH_UPDATE_GOLDEN=1 rewrites them),
// each valid against its target's schema, and byte-identical from one run to the next.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { userDataFor } from '../../lib/cloud/recipe.js';
import { isQlaunchError } from '../../lib/errors.js';
import { EXPORT_TARGETS } from '../../lib/export/input.js';
import { type ExportRequest, exportMachine } from '../../lib/export/source.js';
import { resolveMachine } from '../../lib/machine/resolve.js';
import { findTemplate, listTemplates } from '../../lib/machine/templates.js';
import { kubevirtProblems, nomadProblems } from './validate.js';

const golden = (name: string) => new URL(`./golden/${name}`, import.meta.url);
const update = process.env['QLAUNCH_UPDATE_GOLDEN'] === '1';
const templates = await listTemplates();

// A template built from packages has no URL: a cluster needs one given (the golden files name a placeholder).
const needsUrl = (name: string) => name.endsWith('-local');

// Every template as x86_64, and one as aarch64 (UEFI, the virt machine, arm64 nodes).
const cases = [
  ...templates.map((template) => ({ name: template.name, arch: 'x86_64', file: template.name })),
  { name: 'debian-12', arch: 'aarch64', file: 'debian-12-aarch64' },
];

for (const template of cases) {
  for (const to of EXPORT_TARGETS) {
    t.test(`${template.file} → ${to}`, async (t) => {
      const request: ExportRequest = {
        to,
        name: template.name,
        arch: template.arch,
        ...(to === 'nomad' && { seedUrl: `https://files.example/${template.name}-seed.iso` }),
        // A home with no instances, so a template is what the name finds.
        instancesRoot: t.testdir({}),
      };
      if (needsUrl(template.name)) {
        await t.rejects(
          exportMachine(request),
          { code: 'EXPORT_UNSUPPORTED' },
          'without --image-url it refuses',
        );
        request.imageUrl = `https://images.example/${template.name}-amd64.qcow2`;
      }
      const first = await exportMachine(request);
      const again = await exportMachine(request);
      t.equal(again.text, first.text, 'two exports are byte-identical');
      t.same(again.seedImage, first.seedImage, 'and so are their seed images');
      const file = golden(`${template.file}.${to}.${to === 'kubevirt' ? 'yaml' : 'json'}`);
      if (update || !existsSync(file)) writeFileSync(file, first.text);
      t.equal(first.text, readFileSync(file, 'utf8'), `matches ${file.pathname.split('/').pop()}`);
      t.same(
        to === 'kubevirt' ? kubevirtProblems(first.text) : nomadProblems(first.text),
        [],
        'valid for the target',
      );
      t.ok(
        first.dropped.some((d) => d.what.startsWith("qlaunch's SSH key")),
        'the key qlaunch would make is listed as not carried over',
      );
    });
  }
}

t.test(
  'the same meaning as run: the values resolveMachine gives a template are the ones exported',
  async (t) => {
    for (const template of templates.filter((x) => !needsUrl(x.name))) {
      const machine = resolveMachine(await findTemplate(template.name), { arch: 'x86_64' });
      const { text } = await exportMachine({
        to: 'kubevirt',
        name: template.name,
        arch: 'x86_64',
        instancesRoot: t.testdir({}),
      });
      const vm = parseAllDocuments(text)[0]!.toJS();
      const spec = vm.spec.template.spec;
      t.same(
        [
          spec.domain.cpu.cores,
          spec.domain.memory.guest,
          spec.domain.machine.type,
          vm.spec.dataVolumeTemplates[0].spec.storage.resources.requests.storage,
        ],
        [machine.cpus, `${machine.memoryMiB}Mi`, 'q35', `${machine.diskSizeMiB}Mi`],
        template.name,
      );
      t.equal(
        spec.volumes[1].cloudInitNoCloud.userData,
        await userDataFor(machine),
        `${template.name}: user-data`,
      );
    }
  },
);

t.test('an unknown name is refused with what exists', async (t) => {
  const error = await exportMachine({
    to: 'kubevirt',
    name: 'no-such-thing',
    instancesRoot: t.testdir({}),
  }).catch((e: unknown) => e);
  t.ok(isQlaunchError(error, 'MACHINE_UNKNOWN'));
  t.match((error as Error).message, /no instance, template or stored image is named no-such-thing/);
});
