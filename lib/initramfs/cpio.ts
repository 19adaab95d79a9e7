// An initramfs as the kernel reads it: a "newc" cpio archive (pure: entries in, bytes out).

/** One archive member; parents must come before their children. */
export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'char'; path: string; major: number; minor: number; mode?: number };

const TYPE = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 } as const;
const DEFAULT_MODE = { dir: 0o755, file: 0o644, symlink: 0o777, char: 0o600 } as const;
const TRAILER = 'TRAILER!!!';

const hex = (n: number): string => n.toString(16).padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function header(fields: {
  ino: number;
  mode: number;
  size: number;
  nlink: number;
  rdevMajor: number;
  rdevMinor: number;
  nameSize: number;
}): string {
  return [
    '070701',
    hex(fields.ino),
    hex(fields.mode),
    hex(0), // uid: root
    hex(0), // gid: root
    hex(fields.nlink),
    hex(0), // mtime: fixed, so one input gives one archive
    hex(fields.size),
    hex(0),
    hex(0),
    hex(fields.rdevMajor),
    hex(fields.rdevMinor),
    hex(fields.nameSize),
    hex(0), // check: unused by newc
  ].join('');
}

function member(
  name: string,
  ino: number,
  mode: number,
  data: Uint8Array,
  device = { major: 0, minor: 0 },
): Buffer[] {
  const nameBytes = Buffer.from(`${name}\0`);
  const head = Buffer.from(
    header({
      ino,
      mode,
      size: data.length,
      nlink: (mode & 0o170000) === TYPE.dir ? 2 : 1,
      rdevMajor: device.major,
      rdevMinor: device.minor,
      nameSize: nameBytes.length,
    }),
    'ascii',
  );
  return [
    head,
    nameBytes,
    Buffer.alloc(pad4(head.length + nameBytes.length)),
    Buffer.from(data),
    Buffer.alloc(pad4(data.length)),
  ];
}

/** The archive of `entries`, in order, ending with the trailer; paths are stored relative (no leading slash). */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const [i, entry] of entries.entries()) {
    const name = entry.path.replace(/^\/+/, '');
    if (name === '' || name.split('/').some((part) => part === '..' || part === '')) {
      throw new Error(`cpio member path '${entry.path}' is not a plain relative path`);
    }
    const mode =
      TYPE[entry.kind] | ((entry.kind === 'symlink' ? undefined : entry.mode) ?? DEFAULT_MODE[entry.kind]);
    const data =
      entry.kind === 'file'
        ? entry.data
        : entry.kind === 'symlink'
          ? Buffer.from(entry.target)
          : new Uint8Array();
    const device = entry.kind === 'char' ? { major: entry.major, minor: entry.minor } : undefined;
    parts.push(...member(name, i + 1, mode, data, device));
  }
  parts.push(...member(TRAILER, 0, 0, new Uint8Array()));
  return Buffer.concat(parts);
}
