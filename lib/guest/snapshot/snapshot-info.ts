// Internal qcow2 snapshots as plain facts: the tag rules, QEMU's snapshot records typed, HMP quoting. Pure.

import { ErrorCode, QlaunchError } from '../../errors.js';

/** One internal snapshot of one qcow2 image, as QMP's and qemu-img's `snapshots` arrays describe it. */
export interface SnapshotInfo {
  tag: string;
  /** QEMU's numeric id ("1", "2", …); unique per image, reused after deletes. */
  id: string;
  /** Bytes of RAM and device state; 0 for a disk-only snapshot (`qemu-img snapshot -c`). */
  vmStateSize: number;
  /** When the snapshot was taken (host clock). */
  date: Date;
  /** How long the guest had run when the snapshot was taken, in ns (exact up to 104 days of guest time). */
  vmClock: number;
}

export const MAX_TAG_BYTES = 128;

const tagInvalid = (tag: string, why: string): QlaunchError =>
  new QlaunchError(ErrorCode.VM_SNAPSHOT_TAG_INVALID, `snapshot tag ${JSON.stringify(tag)} ${why}`, {
    hint: 'use a name like base or before-upgrade: letters, digits and punctuation, no spaces',
  });

/** Returns the tag if QEMU and qemu-img can only read it as a name; throws VM_SNAPSHOT_TAG_INVALID otherwise. */
export function checkSnapshotTag(tag: unknown): string {
  if (typeof tag !== 'string' || tag === '') throw tagInvalid(String(tag ?? ''), 'is empty');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\s\u0000-\u001f\u007f-\u009f]/u.test(tag))
    throw tagInvalid(tag, 'contains whitespace or control characters');
  if (Buffer.byteLength(tag) > MAX_TAG_BYTES) throw tagInvalid(tag, `is longer than ${MAX_TAG_BYTES} bytes`);
  // QEMU looks a snapshot up by id or by name, and ids are numbers: an all-digit tag could pick another snapshot.
  if (/^\d+$/.test(tag)) throw tagInvalid(tag, 'is all digits, which QEMU would also read as a snapshot id');
  return tag;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** QEMU's `SnapshotInfo` list (QMP image info or `qemu-img info --output=json`); `source` names it in errors. */
export function parseSnapshotList(value: unknown, source: string): SnapshotInfo[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `the snapshot list of ${source} is not an array`, {
      hint: 'this QEMU answers in a shape qlaunch does not know; report it with `qemu-img --version`',
    });
  }
  return value.map((entry, i): SnapshotInfo => {
    if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['id'] !== 'string') {
      throw new QlaunchError(ErrorCode.VM_SNAPSHOT, `snapshot #${i} of ${source} has no name or id`, {
        hint: 'this QEMU answers in a shape qlaunch does not know; report it with `qemu-img --version`',
      });
    }
    return {
      tag: entry['name'],
      id: entry['id'],
      vmStateSize: num(entry['vm-state-size']),
      date: new Date(num(entry['date-sec']) * 1000 + Math.floor(num(entry['date-nsec']) / 1e6)),
      vmClock: num(entry['vm-clock-sec']) * 1e9 + num(entry['vm-clock-nsec']),
    };
  });
}

/** The tag as one HMP string argument: quoted, so HMP's own parser never splits or unescapes it. */
export const hmpQuote = (tag: string): string => `"${tag.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/**
 * HMP reports failure as text in the command's return string, not as a QMP error. savevm, loadvm and delvm print
 * nothing when they succeed, so any output other than warnings is the failure, returned without QEMU's "Error: ".
 */
export function hmpFailure(output: string): string | undefined {
  const lines = output
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^warning:/i.test(line));
  if (lines.length === 0) return undefined;
  return lines.join('; ').replace(/^Error:\s*/i, '');
}
