// The sync: 0xFF + `guest-sync-delimited`, sent again with a new id (backing off) until the latest id is answered.

import type { JsonObject } from '../qmp/framing.js';
import type { QgaError } from './errors.js';
import { type AgentReply, encodeSync, newSyncId, replyError, replyFor, syncReplyId } from './messages.js';

/** A request that expects no reply on success (`guest-shutdown`): its error, if any, comes before the next sync. */
export interface Unanswered {
  id: string;
  command: string;
  reply?: AgentReply | undefined;
}

export interface SyncWaiter {
  kind: 'sync';
  latest: number;
  outstanding: Set<number>;
  unanswered: Unanswered | undefined;
  resolve: () => void;
  reject: (error: Error) => void;
  /** Sends a fresh sync, unless the session waits on something else by now, then arms the resend. */
  send: () => void;
  /** Waits one more retry interval before sending the sync again. */
  rearm: () => void;
  cleanup: () => void;
}

/** What a sync needs from its session. */
interface SyncWire {
  /** First wait before the sync is sent again; it doubles up to 8 s. */
  retry: number;
  /** True while the session waits on this waiter; a superseded one sends nothing more. */
  current: (waiter: SyncWaiter) => boolean;
  write: (data: Buffer) => void;
  log: (fields: Record<string, unknown>, message: string) => void;
}

const MAX_SYNC_RETRY_MS = 8000;

/** A sync waiter; call `send()` once it is the session's waiter. */
export const newSyncWaiter = (
  unanswered: Unanswered | undefined,
  resolve: () => void,
  reject: (error: Error) => void,
  wire: SyncWire,
): SyncWaiter => {
  let retry = wire.retry;
  let timer: NodeJS.Timeout | undefined;
  const waiter: SyncWaiter = {
    kind: 'sync',
    latest: 0,
    outstanding: new Set(),
    unanswered,
    resolve,
    reject,
    send: () => {
      if (!wire.current(waiter)) return;
      waiter.latest = newSyncId();
      waiter.outstanding.add(waiter.latest);
      wire.log({ id: waiter.latest, attempt: waiter.outstanding.size }, 'sync');
      wire.write(encodeSync(waiter.latest));
      waiter.rearm();
    },
    rearm: () => {
      clearTimeout(timer);
      timer = setTimeout(waiter.send, retry);
      retry = Math.min(retry * 2, MAX_SYNC_RETRY_MS);
    },
    cleanup: () => clearTimeout(timer),
  };
  return waiter;
};

/**
 * Reads one message during a sync: undefined while the sync goes on, else the answered id and, when the
 * unanswered command got an error reply before it, that error.
 */
export const syncStep = (
  waiter: SyncWaiter,
  message: JsonObject,
): { id: number; error: QgaError | undefined } | undefined => {
  const unanswered = waiter.unanswered;
  if (unanswered !== undefined && unanswered.reply === undefined) {
    const reply = replyFor(message, unanswered.id);
    // Only an id-matched reply counts here: id-less errors are what our own 0xFF provokes.
    if (reply !== undefined && message['id'] === unanswered.id) {
      unanswered.reply = reply;
      return undefined;
    }
  }
  const id = syncReplyId(message);
  if (id === undefined || !waiter.outstanding.has(id)) return undefined;
  waiter.outstanding.delete(id);
  if (id !== waiter.latest) {
    // An older sync answered: the agent is up and works through our queue, so wait for the latest.
    waiter.rearm();
    return undefined;
  }
  const reply = unanswered?.reply;
  const failed = unanswered !== undefined && reply !== undefined && reply.kind !== 'return';
  return { id, error: failed ? replyError(unanswered.command, reply) : undefined };
};
