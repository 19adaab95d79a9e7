// Which kernel modules a rootfs guest loads, and in what order (pure): found by name in the kernel's modules
// tree (modules.order, shipped with the kernel, no depmod needed), dependencies from each module's own modinfo.

/** A module's name as the kernel knows it: file name less .ko[.xz|.zst|.gz], '-' read as '_'. */
export const moduleName = (path: string): string =>
  (path.split('/').pop() ?? '').replace(/\.ko(\.(xz|zst|gz))?$/, '').replaceAll('-', '_');

/** Module name → its path in the tree, from modules.order's lines (paths relative to the tree). */
export function moduleIndex(modulesOrder: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const line of modulesOrder.split('\n')) {
    const path = line.trim();
    if (path.endsWith('.ko')) index.set(moduleName(path), path);
  }
  return index;
}

/** The built-in module names, from modules.builtin. */
export function builtinModules(modulesBuiltin: string): Set<string> {
  return new Set(
    modulesBuiltin
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(moduleName),
  );
}

/** The `depends=` of a module's .modinfo (its bytes, uncompressed). */
export function modinfoDepends(ko: Uint8Array): string[] {
  const text = Buffer.from(ko.buffer, ko.byteOffset, ko.byteLength).toString('latin1');
  const found = /\0depends=([^\0]*)\0/.exec(text);
  return found?.[1] ? found[1].split(',').filter(Boolean).map(moduleName) : [];
}

export interface LoadPlan {
  /** Modules in the order to load them (each after what it depends on). */
  order: string[];
  /** Modules (wanted, or depended on) that are neither built in nor in the tree. */
  missing: string[];
}

/**
 * The load order for `wanted`, with everything each depends on first; built-in modules are skipped.
 * `dependsOf(name)` gives a module's dependencies (read from its file by the caller).
 */
export async function loadOrder(
  wanted: readonly string[],
  index: ReadonlyMap<string, string>,
  builtin: ReadonlySet<string>,
  dependsOf: (name: string) => Promise<string[]>,
): Promise<LoadPlan> {
  const order: string[] = [];
  const missing: string[] = [];
  const visiting = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    if (builtin.has(name) || order.includes(name) || visiting.has(name)) return;
    if (!index.has(name)) {
      if (!missing.includes(name)) missing.push(name);
      return;
    }
    visiting.add(name);
    for (const dep of await dependsOf(name)) await visit(dep);
    visiting.delete(name);
    order.push(name);
  };
  for (const name of wanted) await visit(moduleName(name));
  return { order, missing };
}
