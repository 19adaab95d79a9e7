#!/usr/bin/env node
// Writes machines/machine.schema.json, the JSON Schema editors use for machine files, from the zod schema.
// Run after changing lib/machine/file-schema.ts: npm run build && node scripts/machine-schema.mjs
// (test/machine/file-schema.test.ts fails while the committed file differs from the schema.)

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machineJsonSchema } from '../dist/lib/machine/file-schema.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}machines/machine.schema.json`;
writeFileSync(out, `${JSON.stringify(machineJsonSchema(), null, 2)}\n`);
// Laid out as `biome check` wants it, so the lint stays clean; the test compares the JSON, not the text.
execFileSync(`${root}node_modules/.bin/biome`, ['format', '--write', out], { cwd: root, stdio: 'inherit' });
console.log(out);
