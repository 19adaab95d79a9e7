// Pure agent message shapes: encode requests and the delimited sync, recognise sync replies, sort replies.

import { randomInt } from 'node:crypto';
import type { JsonObject } from '../qmp/framing.js';
import { classifyMessage } from '../qmp/messages.js';
import { QgaArgumentError, QgaCommandError, type QgaError, QgaProtocolError } from './errors.js';
import { SENTINEL } from './stream.js';

/** A fresh sync id: random, so no stale reply from an earlier client can match; below 2^47 to stay exact in JSON. */
export const newSyncId = (): number => randomInt(1, 2 ** 47);

/** The sync request, preceded by 0xFF so the agent drops whatever half-read request an earlier client left. */
export const encodeSync = (id: number): Buffer =>
  Buffer.concat([
    Buffer.of(SENTINEL),
    Buffer.from(`${JSON.stringify({ execute: 'guest-sync-delimited', arguments: { id } })}\n`),
  ]);

/** The id a `guest-sync-delimited` reply echoes (`{"return": N}`), or undefined for anything else. */
export const syncReplyId = (message: JsonObject): number | undefined => {
  const value = message['return'];
  return !('error' in message) && typeof value === 'number' && Number.isSafeInteger(value)
    ? value
    : undefined;
};

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Encodes one command as a line; throws QGA_ARGUMENT when the arguments are not a JSON object. */
export const encodeRequest = (
  command: string,
  args: Record<string, unknown> | undefined,
  id: string,
): string => {
  if (typeof command !== 'string' || command === '') {
    throw new QgaArgumentError(`Expected a guest agent command name, got ${JSON.stringify(command)}`);
  }
  if (args !== undefined && !isObject(args)) {
    const got = Array.isArray(args) ? 'an array' : typeof args;
    throw new QgaArgumentError(
      `the arguments of guest agent command ${command} must be an object, got ${got}`,
    );
  }
  const message: JsonObject = { execute: command };
  if (args !== undefined) message['arguments'] = args;
  message['id'] = id;
  try {
    return `${JSON.stringify(message)}\n`;
  } catch (cause) {
    throw new QgaArgumentError(`the arguments of guest agent command ${command} cannot be encoded as JSON`, {
      cause,
    });
  }
};

export type AgentReply =
  | { kind: 'return'; value: unknown }
  | { kind: 'error'; errorClass: string; desc: string }
  | { kind: 'malformed'; reason: string };

/**
 * What an incoming object means for the request with `id`: its reply, or `undefined` when it belongs to
 * something else (another id, or not a reply at all). A reply without id counts: the agent answers a request
 * it could not parse without one, and agents that predate id echoing never send one.
 */
export const replyFor = (message: JsonObject, id: string): AgentReply | undefined => {
  const incoming = classifyMessage(message);
  if (incoming === undefined || incoming.kind === 'event') return undefined;
  if ('id' in message && incoming.id !== id) return undefined;
  if (incoming.kind === 'return') return { kind: 'return', value: incoming.value };
  if (incoming.kind === 'error')
    return { kind: 'error', errorClass: incoming.errorClass, desc: incoming.desc };
  return { kind: 'malformed', reason: incoming.reason };
};

/** The error a reply other than `return` stands for: QGA_EXECUTE with the agent's class and desc, or QGA_PROTOCOL. */
export const replyError = (command: string, reply: Exclude<AgentReply, { kind: 'return' }>): QgaError => {
  if (reply.kind === 'error') {
    return new QgaCommandError({ command, errorClass: reply.errorClass, desc: reply.desc });
  }
  return new QgaProtocolError(`the guest agent's reply to ${command} is malformed: ${reply.reason}`);
};
