// Checking a user's own user-data the way cloud-init reads it (bytes, gzip, then the header or a MIME message),
// and saying what a refused file seems to be without ever quoting it: user-data often holds secrets.

import { isUtf8 } from 'node:buffer';
import { constants, gunzipSync } from 'node:zlib';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkYamlMapping } from './cloud-config.js';

export type UserDataKind =
  | 'cloud-config'
  | 'script'
  | 'multipart'
  | 'boothook'
  | 'include'
  | 'jinja'
  | 'part-handler'
  | 'cloud-config-archive'
  | 'cloud-config-jsonp';

/** A cloud-config up to this size (after gzip) has its YAML checked; a larger one only its header. */
export const YAML_CHECK_BYTES = 4 * 1024 * 1024;

// cloud-init's own table (handlers.INCLUSION_TYPES_MAP), matched longest first, case-insensitively.
const HEADERS: ReadonlyArray<[string, UserDataKind]> = (
  [
    ['#include', 'include'],
    ['#include-once', 'include'],
    ['#!', 'script'],
    ['#cloud-config', 'cloud-config'],
    ['#part-handler', 'part-handler'],
    ['#cloud-boothook', 'boothook'],
    ['#cloud-config-archive', 'cloud-config-archive'],
    ['#cloud-config-jsonp', 'cloud-config-jsonp'],
    ['## template: jinja', 'jinja'],
  ] as [string, UserDataKind][]
).sort(([a], [b]) => b.length - a.length);

const HINT =
  'start a cloud-config with the line #cloud-config, a script with #!, or give multipart MIME ' +
  '(cloud-init also takes #cloud-boothook, #include, #part-handler and ## template: jinja), gzip-compressed or not';

// cloud-init looks for a MIME message in the first 4 KiB, and lstrips Python whitespace before the header.
const MIME_WINDOW = 4096;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x85]);
const GZIP_MAGIC = [0x1f, 0x8b] as const;
// Deflate expands at most ~1032:1, so this much compressed input never inflates past YAML_CHECK_BYTES.
const GZIP_HEAD_INPUT = 4000;

const latin1 = new TextDecoder('latin1');
const lower = (bytes: Uint8Array): string => latin1.decode(bytes).toLowerCase();

/** The header cloud-init would find, by its own rule: the first bytes after leading whitespace. */
function headerKind(bytes: Uint8Array): UserDataKind | undefined {
  if (lower(bytes.subarray(0, MIME_WINDOW)).includes('mime-version:')) return 'multipart';
  let start = 0;
  while (start < bytes.length && WHITESPACE.has(bytes[start]!)) start++;
  const head = lower(bytes.subarray(start, start + 64));
  // Kept from before: write-mime-multipart's first line, whose MIME-Version follows within the window.
  if (/^content-type:\s*multipart\//.test(head)) return 'multipart';
  return HEADERS.find(([prefix]) => head.startsWith(prefix))?.[1];
}

/** Whether `bytes` read as text: valid UTF-8 (a cut last character allowed) and no NUL or control bytes. */
function looksLikeText(bytes: Uint8Array): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return false;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return !/[\0-\x08\x0e-\x1a\x1c-\x1f\x7f]/.test(text);
}

/** What a file that has no cloud-init header seems to be, as a phrase after "it is"; never its content. */
function describe(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'empty';
  if (bytes.every((byte) => WHITESPACE.has(byte))) return 'only blank lines';
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf && headerKind(bytes.subarray(3))) {
    return 'text with a byte order mark before its header, which cloud-init does not skip (save it without one)';
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return 'UTF-16 text; cloud-init reads UTF-8 (save it as UTF-8)';
  }
  const head = bytes.subarray(0, MIME_WINDOW);
  if (!looksLikeText(head)) return 'binary data, not text';
  const end = head.indexOf(0x0a);
  const firstLine = latin1.decode(head.subarray(0, end === -1 ? head.length : end));
  if (/^[A-Za-z_][\w.-]*:(\s|$)/.test(firstLine)) return 'YAML without the #cloud-config line at the top';
  if (firstLine.startsWith('#')) return 'text whose first line is a comment, not a cloud-init header';
  return 'text whose first line is not a cloud-init header';
}

type Inflated = { ok: true; data: Uint8Array; whole: boolean } | { ok: false };

/** gzip data inflated up to YAML_CHECK_BYTES: whole when it fits, else its start; never more in memory. */
function inflate(bytes: Uint8Array): Inflated {
  try {
    return { ok: true, data: gunzipSync(bytes, { maxOutputLength: YAML_CHECK_BYTES }), whole: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') return { ok: false };
  }
  try {
    const head = gunzipSync(bytes.subarray(0, GZIP_HEAD_INPUT), {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: YAML_CHECK_BYTES,
    });
    return { ok: true, data: head, whole: false };
  } catch {
    return { ok: false };
  }
}

const refuse = (source: string, what: string): QlaunchError =>
  new QlaunchError(
    ErrorCode.SEED_INVALID,
    `${source} is not user-data cloud-init understands: it is ${what}`,
    {
      hint: HINT,
    },
  );

/** A cloud-config's YAML, checked when it is all here and small enough; cloud-init reads it as UTF-8. */
function checkCloudConfig(bytes: Uint8Array, whole: boolean, source: string): void {
  if (!whole) return;
  if (!isUtf8(bytes)) {
    throw new QlaunchError(ErrorCode.SEED_INVALID, `${source} is a cloud-config that is not valid UTF-8`, {
      hint: 'cloud-init reads a cloud-config as UTF-8: save the file as UTF-8',
    });
  }
  if (bytes.length <= YAML_CHECK_BYTES) {
    checkYamlMapping(new TextDecoder().decode(bytes), source, 'cloud-config');
  }
}

/**
 * Check a user's own user-data and say what kind it is; it is passed to the guest untouched. `data` is what the
 * file holds (a string is taken as its UTF-8 bytes); `source` names it in errors (usually the file path).
 */
export function checkUserData(data: Uint8Array | string, source: string): UserDataKind {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const gzipped = bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
  const inflated: Inflated = gzipped ? inflate(bytes) : { ok: true, data: bytes, whole: true };
  if (!inflated.ok) return fail(source, 'gzip data that does not decompress (damaged or cut short)');
  const kind = headerKind(inflated.data);
  if (kind === undefined) {
    const what = describe(inflated.data);
    return fail(source, gzipped ? `gzip-compressed ${what.replace(/^empty$/, 'nothing')}` : what);
  }
  if (kind === 'cloud-config') checkCloudConfig(inflated.data, inflated.whole, source);
  return kind;
}

const fail = (source: string, what: string): never => {
  throw refuse(source, what);
};
