// The shape of lib/ that the design rests on: one place spawns QEMU, one stops it, and the public API is a
// reviewed list (a change to it updates the snapshot, on purpose).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const lib = fileURLToPath(new URL('../lib', import.meta.url));

function modules(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The lib/ modules (relative to lib/) whose source uses `name` from a module matching `from`. */
function importersOf(name: string, from: RegExp): string[] {
  return modules(lib)
    .filter((path) => {
      const text = readFileSync(path, 'utf8');
      return [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)].some(
        ([, names = '', spec = '']) => from.test(spec) && new RegExp(`\\b${name}\\b`).test(names),
      );
    })
    .map((path) => relative(lib, path))
    .sort();
}

t.test('exactly one module spawns QEMU, and one stops it', async (t) => {
  t.same(importersOf('spawnQemu', /process\.js$/), ['guest/boot.ts'], 'only the boot path uses the spawner');
  t.same(importersOf('stopQemu', /stop\.js$/), ['guest/guest.ts'], 'only the Guest runs the stop policy');
  const spawners = modules(lib)
    .filter((path) => /from 'node:child_process'/.test(readFileSync(path, 'utf8')))
    .map((path) => relative(lib, path));
  t.notOk(
    spawners.some((path) => path.startsWith('instance/') || path.startsWith('cli/')),
    `no instance or CLI module spawns processes itself (${spawners.join(', ')})`,
  );
});

t.test('the public API is the reviewed list', async (t) => {
  const api = await import('../lib/index.js');
  t.matchSnapshot(Object.keys(api).sort(), 'names exported by lib/index.ts');
});
