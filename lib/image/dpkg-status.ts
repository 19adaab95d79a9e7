// Reading which packages an image root holds from its dpkg status file (/var/lib/dpkg/status): pure.

export interface InstalledPackage {
  name: string;
  version: string;
  depends: string;
}

/** The installed packages in a dpkg status file, by name (only `install ok installed` entries). */
export function parseDpkgStatus(text: string): Map<string, InstalledPackage> {
  const installed = new Map<string, InstalledPackage>();
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      // A continuation line belongs to the field above it.
      if (/^[ \t]/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      last = line.slice(0, colon).toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    if (!name || !version || fields.get('status') !== 'install ok installed') continue;
    installed.set(name, { name, version, depends: fields.get('depends') ?? '' });
  }
  return installed;
}

/** The real kernel package a metapackage (e.g. linux-image-amd64) depends on, as installed. */
export function kernelImageOf(
  installed: ReadonlyMap<string, InstalledPackage>,
  metaPackage: string,
): InstalledPackage | undefined {
  const meta = installed.get(metaPackage);
  if (!meta) return undefined;
  for (const alternative of meta.depends.split(/[,|]/)) {
    const name = alternative.trim().split(/[\s(]/)[0] ?? '';
    const found = /^linux-image-\d/.test(name) ? installed.get(name) : undefined;
    if (found) return found;
  }
  return undefined;
}

/** `{name: version}` for each wanted package; the missing ones are listed separately. */
export function packageVersions(
  installed: ReadonlyMap<string, InstalledPackage>,
  names: readonly string[],
): { versions: Record<string, string>; missing: string[] } {
  const versions: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const found = installed.get(name);
    if (found) versions[name] = found.version;
    else missing.push(name);
  }
  return { versions, missing };
}
