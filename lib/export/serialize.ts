// Manifests as text that diffs well: keys in a fixed (sorted) order, no timestamps, the same bytes every run.

import { stringify } from 'yaml';

/** A copy of `value` with every mapping's keys sorted, so output order never depends on how it was built. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortedKeys((value as Record<string, unknown>)[key])]),
  );
}

/** YAML, one document per object, led by `comments` as `#` lines. */
export function kubevirtYaml(objects: readonly unknown[], comments: readonly string[]): string {
  const head = comments.map((line) => `# ${line}\n`).join('');
  // Block scalars keep user-data readable; lineWidth 0 never folds a line.
  const docs = objects.map((object) =>
    stringify(sortedKeys(object), { lineWidth: 0, blockQuote: 'literal' }),
  );
  return `${head}${docs.map((doc) => `---\n${doc}`).join('')}`;
}

/** JSON for `nomad job run -json`, two-space indented, sorted keys. */
export const nomadJson = (job: unknown): string => `${JSON.stringify(sortedKeys(job), null, 2)}\n`;
