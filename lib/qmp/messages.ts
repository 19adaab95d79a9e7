// Pure QMP message shapes: validate the greeting, sort incoming objects into events and replies, encode commands.

import type { QmpVersionInfo } from './commands.js';
import { QmpArgumentError, QmpGreetingError } from './errors.js';
import type { JsonObject } from './framing.js';

export interface QmpGreeting {
  version: QmpVersionInfo;
  /** Protocol capabilities the server offers, e.g. `['oob']`. */
  capabilities: string[];
}

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** One asynchronous event; `data` is `{}` when the server sent none. */
export interface QmpEvent<D = Record<string, unknown>> {
  event: string;
  data: D;
  timestamp: QmpTimestamp;
}

export type QmpIncoming =
  | { kind: 'event'; event: QmpEvent }
  | { kind: 'return'; id: unknown; value: unknown }
  | { kind: 'error'; id: unknown; hasId: boolean; errorClass: string; desc: string }
  /** A reply-like object that cannot be understood; if its id is pending, that command fails. */
  | { kind: 'malformed'; id: unknown; hasId: boolean; reason: string };

/** Any incoming object that is a reply (or tries to be one), i.e. not an event. */
export type QmpReply = Exclude<QmpIncoming, { kind: 'event' }>;

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

/** Validates a greeting `{"QMP": {"version": …, "capabilities": […]}}`; throws QMP_GREETING naming what is off. */
export const parseGreeting = (message: JsonObject): QmpGreeting => {
  const fail = (what: string): never => {
    throw new QmpGreetingError(
      `the server's first message is not a QMP greeting (${what}): ${JSON.stringify(message)}`,
      {
        hint: 'check that the socket is a QMP monitor (-qmp), not a HMP monitor, serial port or guest agent',
      },
    );
  };
  const qmp = message['QMP'];
  if (!isObject(qmp)) return fail('no "QMP" object');
  const version = qmp['version'];
  const qemu = isObject(version) ? version['qemu'] : undefined;
  if (!isObject(version) || !isObject(qemu)) return fail('no "version.qemu" object');
  const { major, minor, micro } = qemu;
  if (!isInteger(major) || !isInteger(minor) || !isInteger(micro))
    return fail('version numbers are not integers');
  const pkg = version['package'];
  if (typeof pkg !== 'string') return fail('"version.package" is not a string');
  const capabilities = qmp['capabilities'];
  if (!Array.isArray(capabilities) || !capabilities.every((c) => typeof c === 'string')) {
    return fail('"capabilities" is not an array of strings');
  }
  return { version: { qemu: { major, minor, micro }, package: pkg }, capabilities: [...capabilities] };
};

const NO_TIMESTAMP: QmpTimestamp = { seconds: -1, microseconds: -1 };

const parseTimestamp = (value: unknown): QmpTimestamp =>
  // The spec's own "host time unavailable" value stands in for a missing or broken timestamp.
  isObject(value) && typeof value['seconds'] === 'number' && typeof value['microseconds'] === 'number'
    ? { seconds: value['seconds'], microseconds: value['microseconds'] }
    : NO_TIMESTAMP;

/** Sorts one incoming object; returns undefined for objects that are neither an event nor a reply. */
export const classifyMessage = (message: JsonObject): QmpIncoming | undefined => {
  if ('event' in message) {
    const name = message['event'];
    const data = message['data'] ?? {};
    if (typeof name !== 'string' || !isObject(data)) return undefined;
    return { kind: 'event', event: { event: name, data, timestamp: parseTimestamp(message['timestamp']) } };
  }
  const hasId = 'id' in message;
  const id = message['id'];
  if ('error' in message) {
    const error = message['error'];
    if (isObject(error) && typeof error['class'] === 'string' && typeof error['desc'] === 'string') {
      return { kind: 'error', id, hasId, errorClass: error['class'], desc: error['desc'] };
    }
    return { kind: 'malformed', id, hasId, reason: `its "error" member lacks a string class and desc` };
  }
  if ('return' in message) return { kind: 'return', id, value: message['return'] };
  if (hasId) return { kind: 'malformed', id, hasId, reason: 'it has neither "return" nor "error"' };
  return undefined;
};

export interface QmpCommandMessage {
  name: string;
  args?: Record<string, unknown> | undefined;
  id?: string | undefined;
  oob?: boolean | undefined;
}

/** Encodes one command as a line; throws QMP_ARGUMENT when the arguments cannot be JSON. */
export const encodeCommand = ({ name, args, id, oob }: QmpCommandMessage): string => {
  if (args !== undefined && !isObject(args)) {
    throw new QmpArgumentError(
      `the arguments of QMP command ${name} must be an object, got ${Array.isArray(args) ? 'an array' : typeof args}`,
    );
  }
  const message: JsonObject = { [oob ? 'exec-oob' : 'execute']: name };
  if (args !== undefined) message['arguments'] = args;
  if (id !== undefined) message['id'] = id;
  try {
    return `${JSON.stringify(message)}\n`;
  } catch (cause) {
    throw new QmpArgumentError(`the arguments of QMP command ${name} cannot be encoded as JSON`, { cause });
  }
};
