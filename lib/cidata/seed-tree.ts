// Turns a flat list of seed files ('dir/name' paths) into a validated, sorted directory tree.

import { ErrorCode, QlaunchError } from '../errors.js';

export type SeedData = Uint8Array | string;

/** One file of a seed image: a relative '/'-separated path and its bytes (strings are written as UTF-8). */
export interface SeedFile {
  path: string;
  data: SeedData;
}

export interface SeedFileNode {
  kind: 'file';
  name: string;
  /** Full path from the root, for error messages. */
  path: string;
  data: Uint8Array;
}

export interface SeedDirNode {
  kind: 'dir';
  name: string;
  path: string;
  /** Sorted by name (UTF-16 code unit order) so output never depends on input order. */
  children: SeedNode[];
}

export type SeedNode = SeedFileNode | SeedDirNode;

/** Largest name in bytes (UTF-8) any of our filesystems can hold (Rock Ridge NM, VFAT LFN). */
export const MAX_NAME_BYTES = 255;
/** Largest file: ISO 9660 and FAT sizes are 32-bit fields. */
export const MAX_FILE_BYTES = 0xffff_ffff;

const utf8 = new TextEncoder();

export const seedBytes = (data: SeedData): Uint8Array =>
  typeof data === 'string' ? utf8.encode(data) : data;

const invalid = (path: string, why: string, hint?: string): QlaunchError =>
  new QlaunchError(ErrorCode.SEED_INVALID, `Seed file path ${JSON.stringify(path)} is invalid: ${why}`, {
    hint: hint ?? "Use a relative path of '/'-separated names like 'user-data' or 'scripts/setup.sh'.",
  });

/** Checks one path component; `extra` adds filesystem-specific rules and returns a reason or undefined. */
const checkName = (path: string, name: string, extra?: NameRule): void => {
  if (name === '') throw invalid(path, 'it has an empty name (leading, trailing or doubled /)');
  if (name === '.' || name === '..') throw invalid(path, `'${name}' is not allowed as a name`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid(path, 'it contains a control character');
  // A lone surrogate has no UTF-8 or UTF-16 name encoding; the u flag matches only unpaired ones.
  if (/\p{Surrogate}/u.test(name)) throw invalid(path, 'it contains an unpaired UTF-16 surrogate');
  if (utf8.encode(name).length > MAX_NAME_BYTES) {
    throw invalid(
      path,
      `the name ${JSON.stringify(name.slice(0, 40))}... is longer than ${MAX_NAME_BYTES} bytes`,
    );
  }
  const reason = extra?.(name);
  if (reason !== undefined) throw invalid(path, reason);
};

/** A filesystem-specific name check: returns why a name is refused, or undefined. */
export type NameRule = (name: string) => string | undefined;

/** Options for {@link buildSeedTree}. */
export interface SeedTreeOptions {
  nameRule?: NameRule;
  /** Key under which two sibling names count as the same entry (VFAT: case-insensitive). */
  nameKey?: (name: string) => string;
}

const byName = (a: SeedNode, b: SeedNode): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

const sortTree = (dir: SeedDirNode): void => {
  dir.children.sort(byName);
  for (const child of dir.children) if (child.kind === 'dir') sortTree(child);
};

/** Validates every path and builds the tree; directories are implied by the files under them. */
export const buildSeedTree = (files: readonly SeedFile[], options: SeedTreeOptions = {}): SeedDirNode => {
  const key = options.nameKey ?? ((name: string) => name);
  const root: SeedDirNode = { kind: 'dir', name: '', path: '', children: [] };
  const index = new Map<SeedDirNode, Map<string, SeedNode>>([[root, new Map()]]);
  for (const file of files) {
    const path = file.path;
    if (typeof path !== 'string') throw invalid(String(path), 'the path is not a string');
    const names = path.split('/');
    for (const name of names) checkName(path, name, options.nameRule);
    if (typeof file.data !== 'string' && !(file.data instanceof Uint8Array)) {
      throw invalid(
        path,
        'its data is neither a string nor a Uint8Array',
        'Pass file contents as a string or bytes.',
      );
    }
    const data = seedBytes(file.data);
    if (data.length > MAX_FILE_BYTES) {
      throw new QlaunchError(
        ErrorCode.SEED_TOO_LARGE,
        `Seed file ${JSON.stringify(path)} is larger than 4 GiB`,
        {
          hint: 'Seed images carry small configuration files; pass large payloads another way.',
        },
      );
    }
    let dir = root;
    for (const [i, name] of names.entries()) {
      const siblings = index.get(dir)!;
      const existing = siblings.get(key(name));
      const soFar = names.slice(0, i + 1).join('/');
      const last = i === names.length - 1;
      if (existing !== undefined && existing.name !== name) {
        throw invalid(
          path,
          `${JSON.stringify(soFar)} clashes with ${JSON.stringify(existing.path)}`,
          'Names in one directory must differ in more than letter case on this filesystem.',
        );
      }
      if (last) {
        if (existing?.kind === 'dir') throw invalid(path, 'it is both a file and a directory');
        if (existing !== undefined) throw invalid(path, 'it is listed twice', 'Give each path once.');
        const node: SeedFileNode = { kind: 'file', name, path: soFar, data };
        siblings.set(key(name), node);
        dir.children.push(node);
      } else if (existing?.kind === 'file') {
        throw invalid(path, `${JSON.stringify(soFar)} is both a file and a directory`);
      } else if (existing === undefined) {
        const node: SeedDirNode = { kind: 'dir', name, path: soFar, children: [] };
        siblings.set(key(name), node);
        index.set(node, new Map());
        dir.children.push(node);
        dir = node;
      } else {
        dir = existing;
      }
    }
  }
  sortTree(root);
  return root;
};

/** Every directory of the tree, parents before children (pre-order). */
export const allDirs = (root: SeedDirNode): SeedDirNode[] => {
  const out: SeedDirNode[] = [];
  const walk = (dir: SeedDirNode): void => {
    out.push(dir);
    for (const child of dir.children) if (child.kind === 'dir') walk(child);
  };
  walk(root);
  return out;
};
