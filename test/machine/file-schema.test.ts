import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { z } from 'zod';
import { machineJsonSchema } from '../../lib/machine/file-schema.js';

const machinesDir = fileURLToPath(new URL('../../machines/', import.meta.url));
const committed = JSON.parse(readFileSync(`${machinesDir}machine.schema.json`, 'utf8')) as Record<
  string,
  unknown
>;
const templates = readdirSync(machinesDir).filter((name) => name.endsWith('.yaml'));

t.test('machines/machine.schema.json is what the schema emits now', async (t) => {
  t.same(committed, machineJsonSchema(), 'stale: run `npm run build && node scripts/machine-schema.mjs`');
  t.equal(committed['$schema'], 'http://json-schema.org/draft-07/schema#');
});

t.test('every template points editors at the schema', async (t) => {
  for (const file of templates) {
    const first = readFileSync(`${machinesDir}${file}`, 'utf8').split('\n')[0];
    t.equal(first, '# yaml-language-server: $schema=./machine.schema.json', file);
  }
});

t.test('the JSON Schema itself accepts the templates and refuses what the loader refuses', async (t) => {
  // Read the emitted JSON Schema back as a validator, so it is checked as editors will use it.
  const validator = z.fromJSONSchema(committed as Parameters<typeof z.fromJSONSchema>[0]);
  for (const file of templates) {
    const result = validator.safeParse(parse(readFileSync(`${machinesDir}${file}`, 'utf8')));
    t.ok(result.success, `${file}: ${JSON.stringify(result.error?.issues)}`);
  }
  const bad = {
    'unknown key': { image: { name: 'a' }, memroy: '2G' },
    'two image forms': { image: { name: 'a', url: 'https://e.org/x' } },
    'bad size': { image: { name: 'a' }, memory: '12parsecs' },
    'bad arch': { arch: 'sparc', image: { name: 'a' } },
    'unknown arch in images': { images: { amd64: { name: 'a' } } },
  };
  for (const [what, value] of Object.entries(bad)) t.notOk(validator.safeParse(value).success, what);
});
